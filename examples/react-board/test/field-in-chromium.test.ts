/**
 * Field mode in a real browser: builds the app, starts the office server of `pnpm … field`
 * (field/server.ts: SQLite in memory, the sync routes and the page on one loopback origin) and opens the
 * field page in headless Chromium (@crmkit/test-support's) as a device on IndexedDB. The network is cut
 * with Chromium's offline emulation (`context.setOffline`), which cuts loopback requests too. Saves a
 * screenshot of the offline board to test-results/field-offline.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@crmkit/test-support/chromium';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFieldServer } from '../field/server.js';
import { buildApp } from './build-app.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
// Its own output directory: the other Chromium test builds into dist/ at the same time.
const DIST = here('../test-results/field-dist');

let browser: Browser;
let server: Awaited<ReturnType<typeof startFieldServer>>;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  await buildApp(DIST);
  server = await startFieldServer({ dist: DIST });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1500, height: 900 } }); // a new device: empty IndexedDB
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(server.url);
  await page.locator('[data-stage="new"] .card').first().waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const column = (stage: string): Locator => page.locator(`[data-stage="${stage}"]`);
const card = (stage: string, title: string): Locator => column(stage).locator(`.card[data-title="${title}"]`);
const titles = (stage: string) => column(stage).locator('.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-title')));
const bar = () => page.getByRole('status', { name: 'Sync' });
const syncState = async () => ({ state: await bar().getAttribute('data-state'), pending: await bar().getAttribute('data-pending') });
/** Polls that wait for the network (a sync cycle, the live signal): longer than expect.poll's 1 s under load. */
const NET = { timeout: 15_000 };
/** The office's copy of a deal, by title. */
const office = async (title: string) => (await server.crm.deals.list({ limit: 100 })).items.find((d) => d.title === title)!;

describe('react-board field mode in Chromium', () => {
  it('a new device downloads the office board and shows it synced', async () => {
    expect(await titles('new')).toEqual(['Office chairs ×40', 'Standing desks', 'Conference room AV', 'Acoustic panels']);
    expect(await titles('qualified')).toEqual(['Warehouse shelving']);
    await expect.poll(syncState, NET).toEqual({ state: 'idle', pending: '0' });
    expect(await bar().textContent()).toContain('Synced');
  });

  it('with the network cut, a move shows at once and waits as pending; the office is unchanged', async () => {
    await context.setOffline(true);
    await page.getByRole('button', { name: 'Advance Office chairs ×40' }).click();
    await card('qualified', 'Office chairs ×40').waitFor();
    expect(await card('new', 'Office chairs ×40').count()).toBe(0);
    await expect.poll(syncState, NET).toEqual({ state: 'offline', pending: '1' });
    expect(await bar().textContent()).toMatch(/Offline.*1 pending/);
    expect((await office('Office chairs ×40')).stageKey).toBe('new');
    mkdirSync(here('../test-results'), { recursive: true });
    await page.screenshot({ path: here('../test-results/field-offline.png'), fullPage: true });
  });

  it('on reconnect the office gets the move and the status is synced', async () => {
    await context.setOffline(false); // the page's `online` event runs a cycle
    await expect.poll(async () => (await office('Office chairs ×40')).stageKey, NET).toBe('qualified');
    await expect.poll(syncState, NET).toEqual({ state: 'idle', pending: '0' });
    expect(await bar().textContent()).toContain('Synced');
    expect(await titles('qualified')).toEqual(['Warehouse shelving', 'Office chairs ×40']);
  });

  it('an office change reaches the connected board (live signal)', async () => {
    await server.crm.deals.advance((await office('Conference room AV')).id, { toStage: 'qualified' });
    await card('qualified', 'Conference room AV').waitFor();
    expect(await card('new', 'Conference room AV').count()).toBe(0);
  });

  it('a change the office refuses on reconnect is reported, and the board shows the office state', async () => {
    await context.setOffline(true);
    await page.getByRole('button', { name: 'Lose Acoustic panels' }).click();
    const lose = page.getByRole('form', { name: 'Lose Acoustic panels' });
    await lose.getByLabel('Reason').selectOption('competitor');
    await lose.getByRole('button', { name: 'Mark lost' }).click();
    await expect.poll(() => titles('new'), NET).toEqual(['Standing desks']);
    // Meanwhile at the office the deal moves on: the device's loss was made against an older version.
    await server.crm.deals.advance((await office('Acoustic panels')).id, { toStage: 'qualified' });
    await context.setOffline(false);
    await expect.poll(() => bar().textContent(), NET).toContain('refused: deals.lose');
    await card('qualified', 'Acoustic panels').waitFor();
    expect((await office('Acoustic panels')).status).toBe('open');
    await expect.poll(syncState, NET).toEqual({ state: 'idle', pending: '0' });
    await bar().getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => bar().textContent(), NET).not.toContain('refused');
    expect(pageErrors).toEqual([]);
  });
});

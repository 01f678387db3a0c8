/**
 * Field mode in a real browser: builds the app, starts the office server of `pnpm … field`
 * (field/server.ts: SQLite in memory, the sync routes and the page on one loopback origin) and opens the
 * field page in headless Chromium (@crmkit/test-support's) as a device on IndexedDB. The network is cut
 * with Chromium's offline emulation (`context.setOffline`), which cuts loopback requests too, keeps the
 * office's in-memory data and fires the page's `offline`/`online` events like a real cut; the offline
 * reload checks the page's service worker (the app shell), which a reload without it cannot pass
 * (`net::ERR_INTERNET_DISCONNECTED`). Saves a screenshot of the offline board to test-results/field-offline.png.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { where } from '@crmkit/core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFieldServer } from '../field/server.js';
import type { ShellManifest } from '../src/field-shell-worker.js';
import { buildApp } from './build-app.js';
import { openBoard, type BoardInChromium } from './chromium-board.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
// Its own output directory: the other Chromium test builds into dist/ at the same time.
const DIST = here('../test-results/field-dist');

let server: Awaited<ReturnType<typeof startFieldServer>>;
let board: BoardInChromium;
let context: BrowserContext;
let page: Page;
/** Each response to a `/sync` request, and whether the service worker gave it. */
const syncResponses: { url: string; fromServiceWorker: boolean }[] = [];

beforeAll(async () => {
  await buildApp(DIST);
  server = await startFieldServer({ dist: DIST });
  board = await openBoard(server.url); // a new device: empty IndexedDB, no service worker yet
  ({ context, page } = board);
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/sync')) syncResponses.push({ url: response.url(), fromServiceWorker: response.fromServiceWorker() });
  });
});

afterAll(async () => {
  await board?.browser.close();
  await server?.close();
});

const card = (stage: string, title: string) => board.card(stage, title);
const titles = (stage: string) => board.titles(stage);
/** The manifest the build put in the service worker. */
const shellManifest = (): ShellManifest => JSON.parse(/fieldShell\(self, (.*)\);/.exec(readFileSync(join(DIST, 'field-sw.js'), 'utf8'))![1]!) as ShellManifest;
/** The page's Cache API: each cache with the paths it holds. */
const pageCaches = () =>
  page.evaluate(async () => Promise.all((await caches.keys()).map(async (name) => ({ name, paths: (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname).sort() }))));
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

  it('the page installs its offline shell: the page and its assets in a versioned cache, nothing of /sync', async () => {
    const manifest = shellManifest();
    expect(manifest.files[0]).toBe('/field.html');
    expect(manifest.files.some((file) => file.endsWith('.css'))).toBe(true);
    // Every file field.html loads is in the list (the build found them all).
    for (const [, url] of readFileSync(join(DIST, 'field.html'), 'utf8').matchAll(/\s(?:src|href)="([^"]+)"/g)) expect(manifest.files).toContain(url);
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null), NET).toBe(`${server.url}field-sw.js`);
    expect(await pageCaches()).toEqual([{ name: `crmkit-field-${manifest.version}`, paths: [...manifest.files].sort() }]);
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

  it('reloaded with the network cut, the page opens from the shell and shows the rows and the pending move from IndexedDB', async () => {
    syncResponses.length = 0;
    await page.reload(); // without the service worker: net::ERR_INTERNET_DISCONNECTED
    await card('qualified', 'Office chairs ×40').waitFor();
    expect(await titles('new')).toEqual(['Standing desks', 'Conference room AV', 'Acoustic panels']);
    expect(await titles('qualified')).toEqual(['Warehouse shelving', 'Office chairs ×40']);
    await expect.poll(syncState, NET).toEqual({ state: 'offline', pending: '1' });
    expect((await office('Office chairs ×40')).stageKey).toBe('new');
    expect(syncResponses).toEqual([]); // the sync requests failed: none was answered by the worker's cache
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
    // On the page the worker controls, push, pull and the live signal all reached the server itself.
    expect(new Set(syncResponses.map((r) => new URL(r.url).pathname))).toEqual(new Set(['/sync/live', '/sync/push', '/sync/pull']));
    expect(syncResponses.filter((r) => r.fromServiceWorker)).toEqual([]);
  });

  it('the deal panel lists the synced activities: an office note shows, a device note stays once synced (review13c C6)', async () => {
    const deal = await office('Standing desks');
    await server.crm.activities.log({ kind: 'call', dealId: deal.id, outcome: 'Budget approved at the office' });
    await card('new', 'Standing desks').getByRole('button', { name: 'Standing desks', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Deal' });
    const listed = () => panel.getByRole('list', { name: 'Activities' }).textContent();
    await expect.poll(listed, NET).toContain('Call: Budget approved at the office'); // via the live signal
    await panel.getByLabel('Note').fill('Asked for a second quote');
    await panel.getByRole('button', { name: 'Log' }).click();
    await expect.poll(listed, NET).toContain('Note: Asked for a second quote');
    // Synced: the office has the note, and the panel still lists it (the event log's timeline would have lost it).
    await expect.poll(async () => (await server.crm.activities.list({ where: where.eq('dealId', deal.id) })).items.map((a) => a.outcome), NET).toContain('Asked for a second quote');
    await expect.poll(syncState, NET).toEqual({ state: 'idle', pending: '0' });
    expect(await listed()).toContain('Note: Asked for a second quote');
    expect(await listed()).toContain('Call: Budget approved at the office');
    await panel.getByRole('button', { name: 'Close deal' }).click();
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
  });

  it('a new build replaces the shell: its worker takes over and deletes the old cache', async () => {
    const old = shellManifest();
    // Stands for a new build: the same files under a new version (a real one changes the hashed names too).
    const next = { ...old, version: `${old.version}-next` };
    const worker = join(DIST, 'field-sw.js');
    writeFileSync(worker, readFileSync(worker, 'utf8').replace(JSON.stringify(old), JSON.stringify(next)));
    await page.reload(); // a navigation checks the worker's script: changed bytes install the new one
    await card('qualified', 'Acoustic panels').waitFor();
    await expect.poll(pageCaches, NET).toEqual([{ name: `crmkit-field-${next.version}`, paths: [...next.files].sort() }]);
    await expect.poll(syncState, NET).toEqual({ state: 'idle', pending: '0' });
    expect(syncResponses.filter((r) => r.fromServiceWorker)).toEqual([]);
    expect(board.pageErrors).toEqual([]);
  });
});

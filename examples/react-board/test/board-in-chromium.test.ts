/**
 * The example in a real browser: builds the app with Vite, serves dist/ on a free localhost port,
 * and drives it in headless Chromium (playwright-core, started by @crmkit/test-support: CRMKIT_CHROMIUM,
 * else the npm Chromium, else a system one) against the browser's real IndexedDB. Saves a screenshot
 * of the board to test-results/board.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './build-app.js';
import { openBoard, type BoardInChromium } from './chromium-board.js';
import { serveStatic } from './static-server.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const DIST = here('../dist');
const SCREENSHOT = here('../test-results/board.png');

let server: { url: string; close(): Promise<void> };
let board: BoardInChromium;
let page: Page;

beforeAll(async () => {
  await buildApp(DIST);
  server = await serveStatic(DIST);
  board = await openBoard(server.url); // fresh profile: empty IndexedDB
  page = board.page;
});

afterAll(async () => {
  await board?.browser.close();
  await server?.close();
});

const column = (stage: string) => board.column(stage);
const card = (stage: string, title: string) => board.card(stage, title);
const titles = (stage: string) => board.titles(stage);

describe('react-board in Chromium', () => {
  it('shows the seeded pipeline: columns in stage order with counts and totals, and the agenda', async () => {
    expect(await page.locator('.column').evaluateAll((cols) => cols.map((c) => c.getAttribute('data-stage')))).toEqual(['new', 'qualified', 'proposal', 'negotiation']);
    expect(await titles('new')).toEqual(['Office chairs ×40', 'Standing desks', 'Conference room AV', 'Acoustic panels']);
    await expect.poll(() => column('new').locator('.column-header').textContent()).toContain('New 4');
    expect(await column('new').locator('.totals').textContent()).toMatch(/€26,460.*weighted €2,646.*US\$3,200.*weighted US\$320/);
    const agenda = page.getByRole('complementary', { name: 'Agenda' });
    await expect.poll(() => agenda.textContent()).toContain('Send the shelving catalogue');
    expect(await agenda.locator('.overdue').textContent()).toContain('Send the shelving catalogue');
  });

  it('clicking advance moves the card to the next stage', async () => {
    await page.getByRole('button', { name: 'Advance Office chairs ×40' }).click();
    await card('qualified', 'Office chairs ×40').waitFor();
    expect(await card('new', 'Office chairs ×40').count()).toBe(0);
    await expect.poll(() => column('qualified').locator('.column-header').textContent()).toContain('Qualified 2');
  });

  it('a move that breaks a stage rule shows the violation and leaves the card where it was', async () => {
    await page.getByRole('button', { name: 'Advance Standing desks' }).click();
    const banner = page.getByRole('alert');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Add a contact before qualifying the deal');
    expect(await banner.getAttribute('data-code')).toBe('RULE_VIOLATION');
    expect(await card('new', 'Standing desks').locator('.card-error').textContent()).toContain('Add a contact before qualifying the deal');
    expect(await card('qualified', 'Standing desks').count()).toBe(0);
    expect(await titles('new')).toContain('Standing desks');
  });

  it('postpones with a reason and loses with a reason', async () => {
    await page.getByRole('button', { name: 'Postpone Conference room AV' }).click();
    const postpone = page.getByRole('form', { name: 'Postpone Conference room AV' });
    await postpone.getByLabel('Reason').fill('Client at a trade fair');
    await postpone.getByRole('button', { name: 'Postpone' }).click();
    await expect.poll(() => card('new', 'Conference room AV').textContent()).toContain('postponed ×1');

    await page.getByRole('button', { name: 'Lose Acoustic panels' }).click();
    const lose = page.getByRole('form', { name: 'Lose Acoustic panels' });
    await lose.getByLabel('Reason').selectOption('competitor');
    await lose.getByRole('button', { name: 'Mark lost' }).click();
    await expect.poll(() => titles('new')).toEqual(['Standing desks', 'Conference room AV']);
    expect(await page.getByRole('alert').count()).toBe(0); // the successful actions cleared the banner
  });

  it('the deal panel shows the timeline and tasks of a deal', async () => {
    await card('new', 'Conference room AV').getByRole('button', { name: 'Conference room AV', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Deal' });
    await expect.poll(() => panel.getByRole('list', { name: 'Timeline' }).textContent()).toContain('Next step postponed');
    expect(await panel.getByRole('list', { name: 'Timeline' }).textContent()).toContain('Client at a trade fair');
    expect(await panel.textContent()).toContain('Demo the AV setup to Grace');
    await panel.getByLabel('Note').fill('Asked for a second quote');
    await panel.getByRole('button', { name: 'Log' }).click();
    await expect.poll(() => panel.getByRole('list', { name: 'Timeline' }).textContent()).toContain('Note logged: Asked for a second quote');
  });

  it('a reload keeps the state (IndexedDB) and does not seed again', async () => {
    await page.reload();
    await card('qualified', 'Office chairs ×40').waitFor();
    expect(await titles('new')).toEqual(['Standing desks', 'Conference room AV']);
    expect(await titles('qualified')).toEqual(['Warehouse shelving', 'Office chairs ×40']);
    expect(await card('new', 'Conference room AV').textContent()).toContain('postponed ×1');
    expect(await page.locator('.card[data-title="Acoustic panels"]').count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('a change made in another tab shows up without a reload', async () => {
    const other = await page.context().newPage();
    try {
      await other.goto(server.url);
      await other.locator('[data-stage="new"] .card[data-title="Conference room AV"]').waitFor();
      await other.getByRole('button', { name: 'Advance Conference room AV' }).click();
      await other.locator('[data-stage="qualified"] .card[data-title="Conference room AV"]').waitFor();
      await card('qualified', 'Conference room AV').waitFor();
      expect(await titles('new')).toEqual(['Standing desks']);
    } finally {
      await other.close();
    }
  });

  it('saves a screenshot of the board (with a deal open and a refused move)', async () => {
    await card('qualified', 'Office chairs ×40').getByRole('button', { name: 'Office chairs ×40', exact: true }).click();
    await expect.poll(() => page.getByRole('complementary', { name: 'Deal' }).textContent()).toContain('Moved from New to Qualified');
    await page.getByRole('button', { name: 'Advance Standing desks' }).click();
    await page.getByRole('alert').waitFor();
    mkdirSync(here('../test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(board.pageErrors).toEqual([]);
  });
});

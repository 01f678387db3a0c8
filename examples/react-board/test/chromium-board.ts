import { launchChromium } from '@crmkit/test-support/chromium';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

/** The board open in headless Chromium, with locators for its columns and cards. */
export interface BoardInChromium {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors of the page (`pageerror`), in order. */
  readonly pageErrors: string[];
  /** The column of a stage (`data-stage`). */
  column(stage: string): Locator;
  /** A card of that column, by deal title. */
  card(stage: string, title: string): Locator;
  /** The deal titles of a column, top to bottom. */
  titles(stage: string): Promise<(string | null)[]>;
}

/**
 * Starts Chromium (@crmkit/test-support's: CRMKIT_CHROMIUM, else the npm Chromium, else a system one) with a
 * fresh profile (empty IndexedDB, no service worker), opens `url` and waits for the first card of the board.
 */
export async function openBoard(url: string): Promise<BoardInChromium> {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1500, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(url);
  await page.locator('[data-stage="new"] .card').first().waitFor();
  const column = (stage: string): Locator => page.locator(`[data-stage="${stage}"]`);
  return {
    browser,
    context,
    page,
    pageErrors,
    column,
    card: (stage, title) => column(stage).locator(`.card[data-title="${title}"]`),
    titles: (stage) => column(stage).locator('.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-title'))),
  };
}

/**
 * Real headless Chromium (playwright-core + the Chromium of @crmkit/test-support, from npm), started by this file: the whole storage
 * conformance suite, the differential tests and every shared IndexedDB suite run inside a page
 * against the browser's IndexedDB (each becomes one vitest test here), plus what needs several pages
 * (multi-tab change propagation, cross-tab upgrades) or the DevTools protocol (a real quota).
 */
import { fileURLToPath } from 'node:url';
import type { ChangeBatch, StorageAdapter } from '@crmkit/core';
import type { Row } from '@crmkit/core/storage';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserTest, TestOutcome } from './browser/vitest-shim.js';
import { bundle, launchChromium, openPage, ORIGIN, serve } from './chromium/browser-session.js';

type Lib = Window['crmkitTests']['lib'];
interface TabState {
  storage: StorageAdapter;
  batches: ChangeBatch[];
}
declare global {
  interface Window {
    tab?: TabState;
  }
}

const script = await bundle(fileURLToPath(new URL('./browser/entry.ts', import.meta.url)));
const browser: Browser = await launchChromium();
const context: BrowserContext = await serve(browser, script);
const runner: Page = await openPage(context, 'crmkitTests');
const tests: BrowserTest[] = await runner.evaluate(() => window.crmkitTests.tests);

afterAll(async () => {
  await browser.close();
});

interface Node {
  readonly suites: Map<string, Node>;
  readonly tests: { name: string; test: BrowserTest }[];
}
const tree: Node = { suites: new Map(), tests: [] };
for (const test of tests) {
  let node = tree;
  for (const name of test.path.slice(0, -1)) {
    if (!node.suites.has(name)) node.suites.set(name, { suites: new Map(), tests: [] });
    node = node.suites.get(name)!;
  }
  node.tests.push({ name: test.path[test.path.length - 1]!, test });
}

function register(node: Node): void {
  for (const { name, test } of node.tests) {
    it(name, async () => {
      const outcome: TestOutcome = await runner.evaluate((id) => window.crmkitTests.run(id), test.id);
      if (!outcome.ok) {
        const error = new Error(`${outcome.error!.name}: ${outcome.error!.message}${outcome.error!.diff ? `\n${outcome.error!.diff}` : ''}\n--- in Chromium ---\n${outcome.error!.stack ?? ''}`);
        throw error;
      }
    }, test.timeout + 15_000);
  }
  for (const [name, child] of node.suites) describe(name, () => register(child));
}

describe('chromium', () => {
  it('runs the suites in a real browser', () => {
    expect(tests.length).toBeGreaterThan(90);
  });
  register(tree);
});

/** Opens a tab on the test origin (same IndexedDB and BroadcastChannel as the other tabs). */
async function tab(): Promise<Page> {
  return openPage(context, 'crmkitTests');
}

/** Creates and opens an adapter in a tab and records its change batches in `window.tab`. */
async function openTab(page: Page, name: string, options: { v2?: boolean; blockedTimeoutMs?: number } = {}): Promise<void> {
  await page.evaluate(
    async ({ name, v2, blockedTimeoutMs }) => {
      const lib: Lib = window.crmkitTests.lib;
      const storage = lib.createIndexedDbStorage({ name, ...(blockedTimeoutMs ? { blockedTimeoutMs } : {}) });
      await storage.open(v2 ? lib.SCHEMA_V2 : lib.CRM_STORAGE_SCHEMA);
      const state = { storage, batches: [] as ChangeBatch[] };
      storage.onChange((batch) => state.batches.push(batch));
      window.tab = state;
    },
    { name, v2: options.v2 ?? false, blockedTimeoutMs: options.blockedTimeoutMs ?? 0 },
  );
}

const deal = (id: string, title: string): Row => ({ id, tenantId: 't1', version: 1, title }) as Row;

describe('chromium: several tabs', () => {
  let pages: Page[] = [];
  const newTab = async () => {
    const page = await tab();
    pages.push(page);
    return page;
  };
  afterAll(async () => {
    for (const page of pages) await page.close();
    pages = [];
  });

  it('a change committed in one tab reaches onChange in another tab as external', async () => {
    const name = `tabs-${Date.now()}`;
    const [a, b] = [await newTab(), await newTab()];
    await openTab(a, name);
    await openTab(b, name);
    await a.evaluate(async (row) => {
      await window.tab!.storage.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'insert', row }]));
    }, deal('x', 'From tab A'));
    await b.waitForFunction(() => window.tab!.batches.length > 0, undefined, { timeout: 5000 });
    expect(await b.evaluate(() => window.tab!.batches)).toEqual([{ source: 'external', changes: [{ entity: 'deal', tenantId: 't1', id: 'x', op: 'put' }] }]);
    expect(await a.evaluate(() => window.tab!.batches.map((batch) => batch.source))).toEqual(['local']);
    const seen = await b.evaluate(async () => (await window.tab!.storage.transaction('r', (tx) => tx.getMany('deal', 't1', ['x'])))[0]);
    expect(seen).toEqual(deal('x', 'From tab A'));
  });

  it('a deal created through the crm in one tab reaches the other tab, which reads it', async () => {
    const name = `tabs-crm-${Date.now()}`;
    const [a, b] = [await newTab(), await newTab()];
    await openTab(b, name);
    const dealId = await a.evaluate(async (name) => {
      const lib: Lib = window.crmkitTests.lib;
      const crm = await lib.createCrm({ storage: lib.createIndexedDbStorage({ name }), tenantId: 't1', actor: { userId: 'u1' } });
      await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
      const created = await crm.deals.create({ title: 'Cross-tab deal' });
      await crm.close();
      return created.id;
    }, name);
    await b.waitForFunction((id) => window.tab!.batches.some((batch) => batch.changes.some((c) => c.id === id)), dealId, { timeout: 5000 });
    const batches = await b.evaluate(() => window.tab!.batches);
    expect(batches.every((batch) => batch.source === 'external')).toBe(true);
    expect(batches.flatMap((batch) => batch.changes.map((c) => c.entity))).toEqual(expect.arrayContaining(['pipeline', 'deal', 'event']));
    const title = await b.evaluate(async (id) => (await window.tab!.storage.transaction('r', (tx) => tx.getMany('deal', 't1', [id])))[0]?.title, dealId);
    expect(title).toBe('Cross-tab deal');
  });

  it('a newer version in one tab upgrades without being blocked; the old tab then fails with STORAGE instead of hanging', async () => {
    const name = `tabs-upgrade-${Date.now()}`;
    const [a, b] = [await newTab(), await newTab()];
    await openTab(a, name);
    await a.evaluate(async (row) => {
      await window.tab!.storage.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'insert', row }]));
    }, deal('old', 'Written by v1'));
    await openTab(b, name, { v2: true, blockedTimeoutMs: 3000 });
    const inB = await b.evaluate(async () => (await window.tab!.storage.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'title', value: 'Written by v1' } }))).rows.map((r) => r.id));
    expect(inB).toEqual(['old']);
    const inA = await a.evaluate(async () => {
      try {
        await window.tab!.storage.transaction('r', (tx) => tx.getMany('deal', 't1', ['old']));
        return 'no error';
      } catch (error) {
        const e = error as { code?: string; details?: { retryable?: boolean } };
        return `${e.code} retryable=${e.details?.retryable}`;
      }
    });
    expect(inA).toBe('STORAGE retryable=false');
  });

  it('an upgrade blocked by a tab that ignores versionchange rejects with a retryable STORAGE error in time', async () => {
    const name = `tabs-blocked-${Date.now()}`;
    const [a, b] = [await newTab(), await newTab()];
    await a.evaluate(
      (name) =>
        new Promise<void>((resolve) => {
          const request = indexedDB.open(name, 1); // an old app: keeps its connection, ignores versionchange
          request.onsuccess = () => resolve();
        }),
      name,
    );
    const started = Date.now();
    const result = await b.evaluate(async (name) => {
      const lib: Lib = window.crmkitTests.lib;
      try {
        await lib.createIndexedDbStorage({ name, blockedTimeoutMs: 500 }).open(lib.CRM_STORAGE_SCHEMA);
        return 'opened';
      } catch (error) {
        const e = error as { code?: string; details?: { retryable?: boolean } };
        return `${e.code} retryable=${e.details?.retryable}`;
      }
    }, name);
    expect(result).toBe('STORAGE retryable=true');
    expect(Date.now() - started).toBeLessThan(5000);
    await a.close(); // the old tab goes away: now the upgrade goes through
    pages = pages.filter((p) => p !== a);
    await openTab(b, name);
    expect(await b.evaluate(async () => (await window.tab!.storage.transaction('r', (tx) => tx.query('deal', 't1', {}))).rows.length)).toBe(0);
  });
});

describe('chromium: a real QuotaExceededError', () => {
  it('a batch that exceeds the origin quota is rolled back whole and surfaces STORAGE', async () => {
    // A context of its own: fresh, empty storage, so the quota does not depend on what other tests left.
    const isolated = await serve(browser, script);
    const page = await openPage(isolated, 'crmkitTests');
    const cdp = await isolated.newCDPSession(page);
    try {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: ORIGIN, quotaSize: 3 * 1024 * 1024 });
      const outcome = await page.evaluate(async (name) => {
        const lib: Lib = window.crmkitTests.lib;
        const storage = lib.createIndexedDbStorage({ name });
        await storage.open(lib.CRM_STORAGE_SCHEMA);
        const batches: ChangeBatch[] = [];
        storage.onChange((b) => batches.push(b));
        const row = (id: string, title: string) => ({ id, tenantId: 't1', version: 1, title });
        await storage.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'insert', row: row('small', 'fits') }]));
        // Random text: Chromium compresses stored values, so repeated characters would not fill the quota.
        let seed = 2463534242;
        const noise = () => Array.from({ length: 40_000 }, () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), (seed >>> 0).toString(36))).join('');
        const big = noise();
        let error: { code?: string; message?: string; details?: { retryable?: boolean } } | undefined;
        try {
          await storage.transaction('rw', (tx) => tx.write('deal', 't1', Array.from({ length: 40 }, (_, i) => ({ type: 'insert' as const, row: row(`big${i}`, i + big) }))));
        } catch (e) {
          error = e as typeof error;
        }
        const { rows } = await storage.transaction('r', (tx) => tx.query('deal', 't1', {}));
        await storage.close();
        indexedDB.deleteDatabase(name);
        return { code: error?.code, message: error?.message, retryable: error?.details?.retryable, stored: rows.map((r) => r.id), batches: batches.length };
      }, `quota-${Date.now()}`);
      expect(outcome).toMatchObject({ code: 'STORAGE', stored: ['small'], batches: 1 });
      expect(outcome.message).toContain('QuotaExceededError');
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: ORIGIN }).catch(() => undefined);
      await isolated.close();
    }
  });
});

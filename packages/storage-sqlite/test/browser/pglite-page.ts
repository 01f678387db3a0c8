// Runs in headless Chromium (see ../pglite-in-chromium.test.ts): crmkit on PGlite stored in the
// browser's IndexedDB (idb://), written on one page load and read back on the next.
import { PGlite } from '@electric-sql/pglite';
import { createCrm, silentLogger, type CrmWith } from '@crmkit/core';
import { timeline, type TimelineFeature } from '@crmkit/core/timeline';
import { createPgliteStorage } from '@crmkit/storage-sqlite/pglite';

const DATA_DIR = 'idb://crmkit-pglite-test';

/**
 * Opens the database; `fromTemplate` creates it from the dump of a fresh database that the test serves
 * (initdb in WebAssembly takes minutes in a browser on a busy machine; the later open is a plain one).
 */
async function open(fromTemplate = false): Promise<{ crm: CrmWith<[TimelineFeature]>; close: () => Promise<void>; durable: boolean }> {
  const loadDataDir = fromTemplate ? await (await fetch('/template.tar')).blob() : undefined;
  const pglite = await PGlite.create(DATA_DIR, loadDataDir ? { loadDataDir } : {});
  const storage = createPgliteStorage({ pglite, schema: 'crm' });
  const crm = await createCrm({ storage, tenantId: 'acme', actor: { userId: 'anna' }, logger: silentLogger, features: [timeline()] });
  return { crm, durable: storage.capabilities.durable, close: async () => (await crm.close(), await pglite.close()) };
}

async function write(): Promise<{ dealId: string; durable: boolean; board: string[] }> {
  const { crm, close, durable } = await open(true);
  try {
    const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal', probability: 60 }] });
    const deal = await crm.deals.create({ title: 'Browser deal', value: { amount: 4200_00, currency: 'EUR' } });
    await crm.deals.advance(deal.id);
    const board = await crm.deals.board(sales.id);
    return { dealId: deal.id, durable, board: board.columns.map((c) => `${c.stage.key}:${c.count}`) };
  } finally {
    await close();
  }
}

async function read(dealId: string): Promise<{ title: string; stage: string; amount: number; events: string[] }> {
  const { crm, close } = await open();
  try {
    const deal = await crm.deals.get(dealId);
    const history = await crm.timeline({ type: 'deal', id: dealId });
    return { title: deal.title, stage: deal.stageKey, amount: deal.value.amount, events: history.items.map((e) => e.type).sort() };
  } finally {
    await close();
  }
}

declare global {
  interface Window {
    crmkitPglite: { write: typeof write; read: typeof read };
  }
}
window.crmkitPglite = { write, read };

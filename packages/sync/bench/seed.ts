import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import type { Row } from '@crmkit/core/storage';
import { tasks } from '@crmkit/core/tasks';

const id = (prefix: string, i: number) => `${prefix}_${String(i).padStart(22, '0')}`;

/**
 * Fills a server's storage (tenant `acme`) fast: one deal and one contact made through the services
 * give the rows' shape; `n` copies of each (`contacts: false`: deals only) are written straight into
 * storage, 1 000 per transaction. Call it before a crm with `syncChanges()` opens the storage: its
 * backfill gives the copies change positions (as for records written before the feature was installed).
 *
 * @returns The copies' ids (deals in id order) and the pipeline they are in.
 */
export async function seedRows(storage: StorageAdapter, n: number, options: { contacts?: boolean } = {}): Promise<{ dealIds: string[]; pipelineId: string }> {
  const plain = await createCrm({ storage, tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, closeStorage: false, features: [tasks(), activities()] as const });
  const pipeline = await plain.pipelines.create({ name: 'Seeded', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  const deal = (await plain.deals.create({ title: 'Template', pipelineId: pipeline.id, value: { amount: 1200, currency: 'EUR' }, ownerId: 'bench' })) as unknown as Row;
  const contact = (await plain.contacts.create({ name: 'Template', email: 'template@example.com', jobTitle: 'Buyer' })) as unknown as Row;
  await plain.close();
  const dealIds: string[] = [];
  for (let from = 0; from < n; from += 1_000) {
    const count = Math.min(1_000, n - from);
    const deals = Array.from({ length: count }, (_, k) => ({ ...deal, id: id('deal', from + k + 1), title: `Deal ${from + k}`, value: { amount: 1000 + from + k, currency: 'EUR' } }) as Row);
    dealIds.push(...deals.map((d) => d.id as string));
    await storage.transaction('rw', async (tx) => {
      await tx.write('deal', 'acme', deals.map((row) => ({ type: 'insert' as const, row })));
      if (options.contacts !== false) await tx.write('contact', 'acme', Array.from({ length: count }, (_, k) => ({ type: 'insert' as const, row: { ...contact, id: id('ctc', from + k + 1), name: `Contact ${from + k}`, email: `c${from + k}@example.com` } as Row })));
    });
  }
  return { dealIds, pipelineId: pipeline.id };
}

import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import type { CrmSubject } from './crm-harness.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * Ids chosen by the caller (device sync's offline creates, design sync.md §5): every create service
 * stores the id it is given, and refuses an id the tenant holds already with `CONFLICT` (the stored
 * version), nothing written — on every adapter.
 */
export function crmClientIdTests(open: () => Promise<CrmSubject>): void {
  describe('caller-chosen ids', () => {
    it('every create service stores a given id and refuses a taken one with CONFLICT, nothing written', async () => {
      const s = await open();
      const c = s.crm;
      const pipeline = await c.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      const creates: readonly [string, string, (id: string) => Promise<{ id: string }>][] = [
        ['lead', 'lead_01JD4Y3M5K0000000000000001', (id) => c.leads.create({ id, name: 'Ada' } as never)],
        ['contact', 'ctc_01JD4Y3M5K0000000000000001', (id) => c.contacts.create({ id, name: 'Ada' } as never)],
        ['company', 'co_01JD4Y3M5K0000000000000001', (id) => c.companies.create({ id, name: 'Acme' } as never)],
        ['deal', 'deal_01JD4Y3M5K0000000000000001', (id) => c.deals.create({ id, title: 'Order', pipelineId: pipeline.id } as never)],
        ['task', 'task_01JD4Y3M5K0000000000000001', (id) => c.tasks.create({ id, subject: 'Call' } as never)],
        ['activity', 'act_01JD4Y3M5K0000000000000001', (id) => c.activities.log({ id, kind: 'note', body: 'Met' } as never)],
      ];
      for (const [entity, id, create] of creates) {
        expect((await create(id)).id, entity).toBe(id);
        const before = await s.dump();
        const error = await rejection(create(id));
        expect(isCrmError(error, 'CONFLICT') && error.details, entity).toMatchObject({ entity, id, actualVersion: 1 });
        expect(await s.dump(), entity).toBe(before);
      }
    });
  });
}

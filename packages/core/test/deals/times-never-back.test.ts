import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { createTestCrm, type AllFeatures } from '@crmkit/core/testing';

const WEDNESDAY = '2026-03-04T15:00:00.000Z';
const MONDAY = '2026-03-02T08:00:00.000Z';

/**
 * A deal's `lastActivityAt` and `updatedAt` never move back (review13b B6): a write run at an earlier time
 * than the deal's last one — a synced device's command applied at the user's time — keeps the later times.
 * One case for each writer that touches the deal: an update, a funnel move, a completed task.
 */
describe('a deal written at a time before its last write', () => {
  const writes = {
    update: (crm: Crm, dealId: string) => crm.deals.update(dealId, { title: 'Acme GmbH' }),
    advance: (crm: Crm, dealId: string) => crm.deals.advance(dealId),
    'task completed': async (crm: Crm, dealId: string) => {
      const [task] = (await crm.tasks.list({ where: where.eq('dealId', dealId) })).items;
      await crm.tasks.complete(task!.id, { outcome: 'Reached' });
    },
  };
  for (const [name, write] of Object.entries(writes)) {
    it(`${name}: keeps the later lastActivityAt and updatedAt`, async () => {
      const { crm, clock } = await createTestCrm({ now: MONDAY });
      await crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }, { key: 'next', name: 'Next' }] });
      const created = await crm.deals.create({ title: 'Acme', nextStep: { subject: 'Call', type: 'call', dueAt: '2026-03-05T09:00:00Z' } });
      clock.set(WEDNESDAY);
      const wednesday = await crm.deals.update(created.id, { expectedCloseDate: '2026-04-01' });
      clock.set(MONDAY);
      await write(crm, created.id);
      const after = await crm.deals.get(created.id);
      expect(after.version).toBeGreaterThan(wednesday.version);
      expect({ lastActivityAt: after.lastActivityAt, updatedAt: after.updatedAt }).toEqual({ lastActivityAt: WEDNESDAY, updatedAt: WEDNESDAY });
    });
  }
});

type Crm = Awaited<ReturnType<typeof createTestCrm<AllFeatures>>>['crm'];

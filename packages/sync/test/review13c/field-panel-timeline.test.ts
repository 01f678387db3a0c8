import { createCrm, createMemoryStorage, silentLogger, where } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { observers } from '@crmkit/core/observe';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica } from '../../src/index.js';
import { office } from './harness.js';

const settle = () => new Promise((r) => setTimeout(r, 30));

/**
 * review13c C6: field mode's deal panel (examples/react-board/src/deal-panel.tsx) showed notes through
 * `useTimeline` (the event log). The event log is not synced, and a device keeps only its *pending* commands'
 * events: a note the rep logged showed in the panel, then disappeared as soon as the sync confirmed it; notes
 * logged at the office never showed. Field mode's panel now lists the deal's activities (`useActivities`, the
 * query below, over `client.crm` as `CrmProvider` hands it): synced records, so both stay.
 */
describe('review13c: a note logged in field mode', () => {
  it('stays in the deal panel\'s list once synced, and the office\'s notes show on the device', async () => {
    const o = await office({ noFieldRules: true });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    await o.crm.activities.log({ kind: 'call', dealId: deal.id, outcome: 'Office called', occurredAt: '2026-01-05T08:30:00.000Z' }); // before the note (now, 09:00 by the office clock)
    const crm = await createCrm({
      storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', actor: { userId: 'anna' }, logger: silentLogger, clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 5 },
      features: [tasks(), activities(), observers(), syncReplica()] as const, // the example's boardFeatures()
    });
    const client = await createSyncClient({ crm, transport: inProcessTransport(o.server, { headers: () => ({ authorization: 'Bearer token-anna' }) }), start: false });
    await client.syncNow();
    // The panel's list (DealActivities in deal-panel.tsx), observed as useActivities observes it.
    const list = client.crm.observe.activities({ where: where.eq('dealId', deal.id), orderBy: [{ field: 'occurredAt', direction: 'desc' }], limit: 20 });
    const off = list.subscribe(() => undefined);
    const shown = async () => {
      await settle();
      return list.getSnapshot().data?.items.map((a) => `${a.kind}: ${a.outcome}`);
    };
    expect(await shown()).toEqual(['call: Office called']);
    await client.crm.activities.log({ kind: 'note', dealId: deal.id, outcome: 'Met the buyer' });
    const before = await shown();
    await client.syncNow();
    const after = await shown();
    off();
    expect({ before, after }).toEqual({ before: ['note: Met the buyer', 'call: Office called'], after: ['note: Met the buyer', 'call: Office called'] });
    expect((await o.crm.activities.list({ where: where.eq('dealId', deal.id) })).items).toHaveLength(2);
  });
});

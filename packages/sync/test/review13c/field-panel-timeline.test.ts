import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { timeline } from '@crmkit/core/timeline';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica } from '../../src/index.js';
import { office } from './harness.js';

/**
 * review13c C6: field mode's deal panel (examples/react-board/src/deal-panel.tsx) shows notes through
 * `useTimeline` (the event log). The event log is not synced, and a device keeps only its *pending* commands'
 * events: a note the rep logs shows in the panel, then disappears as soon as the (50 ms debounced) sync confirms
 * it — online that is at once. To the rep the note looks lost; notes logged at the office never show at all.
 * docs/sync.md promises "the deal panel's notes … become commands" in field mode.
 */
describe('review13c: a note logged in field mode', () => {
  it('stays in the deal\'s timeline once synced', async () => {
    const o = await office({ noFieldRules: true });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    const crm = await createCrm({
      storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', actor: { userId: 'anna' }, logger: silentLogger, clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 5 },
      features: [tasks(), activities(), timeline(), syncReplica()] as const,
    });
    const client = await createSyncClient({ crm, transport: inProcessTransport(o.server, { headers: () => ({ authorization: 'Bearer token-anna' }) }), start: false });
    await client.syncNow();
    await client.crm.activities.log({ kind: 'note', dealId: deal.id, outcome: 'Met the buyer' });
    const before = (await crm.timeline({ type: 'deal', id: deal.id })).items.map((e) => e.type);
    await client.syncNow();
    const after = (await crm.timeline({ type: 'deal', id: deal.id })).items.map((e) => e.type);
    expect({ before, after }).toEqual({ before: ['activity.logged'], after: ['activity.logged'] });
  });
});

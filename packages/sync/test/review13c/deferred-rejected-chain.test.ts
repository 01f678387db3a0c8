import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13c C5: a deferred command that the server rejects takes every later funnel move on the same record down
 * with it (`predecessorRejected`), although the deferred command had no visible effect on the device: the user
 * saw (and acted on) the record as the server has it, only its version was bumped by `touchRecord`. R3's reason
 * for `predecessorRejected` ("the user never saw that state") does not hold here.
 *
 * A rep who may not read `value` advances a deal into a stage whose entry rule needs a positive amount: the device
 * cannot judge it (deferred, rightly). She then postpones the deal. Online the advance is refused and the postpone
 * applies; synced, both are refused.
 */
describe('review13c: a rejected deferred command', () => {
  it('does not make the server refuse a later move the user made on the record as it is', async () => {
    const o = await office({ denyDeal: ['value'] });
    const gated = await o.crm.pipelines.create({ name: 'Gated', stages: [{ key: 'new', name: 'New' }, { key: 'quote', name: 'Quote', entryRules: [{ type: 'amountPositive' }] }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] } as never);
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: gated.id, ownerId: 'anna' });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    expect((await anna.client.execute('deals.advance', deal.id)).deferred).toBe('hidden_field');
    await anna.client.crm.deals.postpone(deal.id, { until: '2026-01-20T00:00:00.000Z' });
    anna.network.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([['deals.advance', 'RULE_VIOLATION']]);
    expect((await o.crm.deals.get(deal.id)).postponeCount).toBe(1);
  });
});

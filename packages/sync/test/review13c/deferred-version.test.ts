import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13c C3: a deferred command predicts the server's version as "+1" (`touchRecord`), whatever the server
 * does. A rep who may not read the required custom field `margin` re-saves a deal form unchanged (an update the
 * server applies as a no-op: no new version), then advances the deal, offline. Nobody else touched the deal, yet
 * the server rejects the advance with `CONFLICT` (expected version 2, stored 1): the device invented the
 * conflict and her advance is lost ("someone else changed it first").
 */
describe('review13c: a deferred command followed by a funnel move', () => {
  it('does not turn into a CONFLICT when nobody else changed the deal', async () => {
    const o = await office({ requiredMargin: true });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', custom: { margin: 30 } } as never);
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    const saved = await anna.client.execute('deals.update', deal.id, { title: 'Acme' });
    expect(saved.deferred).toBe('hidden_field');
    await anna.client.crm.deals.advance(deal.id);
    anna.network.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([]);
    expect((await o.crm.deals.get(deal.id)).stageKey).toBe('proposal');
  });
});

import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d D2: a rep may not read tasks' `dueAt`. Her deal has two open tasks; she completes the later one offline,
 * then loses the deal. On the device the completion recomputes the deal's next step from tasks without a due time
 * (the field is absent) and *writes* the deal (version 3 → 4, `nextStepDueAt` gone); on the server the next step is
 * unchanged, so the deal is not written (stays 3). The lose carries the predicted 4: `CONFLICT (expected version 4,
 * stored 3)`, though nobody but her touched the deal. Online, `crm.as(anna)` loses it.
 */
async function setup() {
  const o = await office({ task: { read: { deny: ['dueAt'] } } });
  const d = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
  const later = await o.crm.tasks.create({ subject: 'Later', ownerId: 'anna', dealId: d.id, dueAt: '2026-01-08T10:00:00.000Z' });
  await o.crm.tasks.create({ subject: 'Sooner', ownerId: 'anna', dealId: d.id, dueAt: '2026-01-06T10:00:00.000Z' });
  return { o, d, later };
}

describe('review13d D2: the device predicts a write the server does not make', () => {
  it('online: completing the later task and losing the deal both apply', async () => {
    const { o, d, later } = await setup();
    const anna = o.crm.as({ userId: 'anna' });
    const seen = await anna.deals.get(d.id);
    await anna.tasks.complete(later.id, { version: later.version });
    await anna.deals.lose(d.id, { reason: 'price', version: seen.version });
    expect((await o.crm.deals.get(d.id)).status).toBe('lost');
  });

  it('offline: the same two commands — the lose is refused with an invented CONFLICT', async () => {
    const { o, d, later } = await setup();
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    await anna.client.crm.tasks.complete(later.id);
    // The device's deal lost its next step (the server's still has 2026-01-06) and moved to a version the server never gives it.
    expect.soft((await anna.client.crm.deals.get(d.id) as { nextStepDueAt?: string }).nextStepDueAt).toBe('2026-01-06T10:00:00.000Z');
    await anna.client.crm.deals.lose(d.id, { reason: 'price' });
    anna.network.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.message])).toEqual([]);
    expect((await o.crm.deals.get(d.id)).status).toBe('lost');
  });
});

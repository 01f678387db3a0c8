import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d D5: design §25 promises "a versioned command is refused with CONFLICT whenever someone other than this
 * client id wrote the record since the version the user saw". A device command that is a write on the device but a
 * no-op on the server (the office made the same edit first) predicts exactly the version the office's write gave the
 * record (ABA, R3's family): the next move is taken although the user never saw the office's other changes.
 */
describe('review13d D5: an own command that is a no-op on the server lets a foreign write through', () => {
  it('office fixes the title and moves the deal on; the rep fixes the same title offline, then loses the deal', async () => {
    const o = await office({});
    const d = await o.crm.deals.create({ title: 'Acme Corp', pipelineId: o.sales.id, ownerId: 'anna' });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    // The office fixes the title and, in the same write, closes the deal in the future and changes the owner's note.
    await o.crm.deals.update(d.id, { title: 'ACME Corp.', expectedCloseDate: '2026-03-01', custom: { region: 'South' } });
    await anna.client.crm.deals.update(d.id, { title: 'ACME Corp.' }); // a write on the device (v1 → v2), a no-op on the server (already v2)
    await anna.client.crm.deals.lose(d.id, { reason: 'price' }); // carries version 2: the version the *office's* write made
    anna.network.online = true;
    await anna.client.syncNow();
    // She saw v1; the office wrote v2: the lose must be refused, as it is online with `version: 1`.
    expect(await o.crm.as({ userId: 'anna' }).deals.postpone(d.id, { until: '2026-01-20T00:00:00.000Z', version: 1 }).then(() => 'applied', (e: { code: string }) => e.code)).toBe('CONFLICT');
    expect(anna.client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([['deals.lose', 'CONFLICT']]);
    expect((await o.crm.deals.get(d.id)).status).toBe('open');
  });
});

import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d D7: the issue's own example — "same deal advanced on one, lost on the other" — is accepted when the rep
 * did anything unversioned to the deal in between (a field edit, a logged call). The device predicts her edit's
 * version (v1 → 2), the number the office's advance already gave the deal; the server applies her edit on top of the
 * advance (v3, a run of hers `from: 2`), and the lose carrying 2 passes §25's own-writes check (`from ≤ 2 < 3`):
 * version 2 was the *office's*, not hers. Before fix13f the lose was a CONFLICT (2 ≠ 3).
 */
async function setup() {
  const o = await office({});
  const d = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
  const anna = await device(o.server, 'anna');
  await anna.client.syncNow();
  anna.network.online = false;
  await o.crm.as({ userId: 'ben' }).deals.advance(d.id).catch(() => o.crm.deals.advance(d.id)); // the office advances it (v2)
  return { o, d, anna };
}

describe('review13d D7: an unversioned own command between lets a foreign write through', () => {
  const unversioned: [string, (x: Awaited<ReturnType<typeof setup>>) => Promise<unknown>][] = [
    ['a field edit', (x) => x.anna.client.crm.deals.update(x.d.id, { title: 'Acme renewal' })],
    ['a logged call', (x) => x.anna.client.crm.activities.log({ kind: 'call', dealId: x.d.id } as never)],
    ['a new task on it', (x) => x.anna.client.crm.tasks.create({ subject: 'Send quote', ownerId: 'anna', dealId: x.d.id, dueAt: '2026-01-07T10:00:00.000Z' } as never)],
    ['a tag edit', (x) => x.anna.client.crm.deals.update(x.d.id, { tags: ['hot'] })],
  ];
  for (const [what, step] of unversioned) {
    it(`advanced at the office, then on the device ${what} and a lose: the lose is a CONFLICT`, async () => {
      const x = await setup();
      expect((await x.o.crm.deals.get(x.d.id)).stageKey).toBe('proposal');
      await step(x);
      await x.anna.client.crm.deals.lose(x.d.id, { reason: 'price' }); // the user saw v1, in stage "new"
      x.anna.network.online = true;
      await x.anna.client.syncNow();
      expect(x.anna.client.status().rejected.map((r) => [r.name, r.error.code])).toEqual([['deals.lose', 'CONFLICT']]);
      expect(await x.o.crm.deals.get(x.d.id)).toMatchObject({ status: 'open', stageKey: 'proposal' });
    });
  }
});

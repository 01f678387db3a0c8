import { describe, expect, it } from 'vitest';
import { device, office } from '../review13d/harness.js';

/**
 * review13e E1: the device still hands out *predicted* version numbers (results, `get`, another tab's reads) and
 * fix13i's `withVersion` takes a given version equal to the live row's as "the same view": after a rebase the live
 * row can carry that very number for a different state — the server's, with a write by someone else the user never
 * saw. The command is sent with the server's number and applied over that write (§25: "refused with CONFLICT
 * whenever someone other than this client id wrote the record since the version the user saw").
 */
async function setup() {
  const o = await office({});
  const d = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', value: { amount: 1000, currency: 'EUR' } });
  const anna = await device(o.server, 'anna');
  await anna.client.syncNow();
  anna.network.online = false;
  return { o, d, anna };
}

describe('review13e E1: a version the device predicted, given back after a rebase, passes for the server\'s', () => {
  it('her advance is refused (office edit); the lose she makes on the advanced deal she was shown is applied over the office edit', async () => {
    const { o, d, anna } = await setup();
    await o.crm.deals.update(d.id, { title: 'Acme — office', value: { amount: 50, currency: 'EUR' } }); // v2 at the office
    const shown = await anna.client.crm.deals.advance(d.id); // the device shows v2, stage proposal, amount 1000
    expect(shown).toMatchObject({ version: 2, stageKey: 'proposal' });
    anna.network.online = true;
    await anna.client.syncNow(); // advance: CONFLICT; the pull brings the office's v2
    expect(anna.client.status().rejected.map((r) => r.error.code)).toEqual(['CONFLICT']);
    // A second tab (or the screen not yet refreshed) acts on what it was shown: version 2, "proposal", 1000 EUR.
    const verdict = await anna.client.crm.deals.lose(d.id, { reason: 'price', version: shown.version }).then(() => 'recorded', (e: { code: string }) => e.code);
    await anna.client.syncNow();
    const rejected = anna.client.status().rejected.map((r) => [r.name, r.error.code]);
    // Online, no call of hers ever returned a v2 she could act on; the office's v2 is a state she never saw.
    // fix13k: the device sends the retired prediction's base (1) and leaves the verdict to the server (only it
    // knows whether the writes since were hers): refused there, the office's edit stands.
    expect(verdict === 'CONFLICT' || rejected.some(([name, code]) => name === 'deals.lose' && code === 'CONFLICT')).toBe(true);
    expect((await o.crm.deals.get(d.id)).status).toBe('open');
  });

  it('her title edit is a no-op on the server (the office set the same title and a new amount): the lose at the version she was shown wins', async () => {
    const { o, d, anna } = await setup();
    await o.crm.deals.update(d.id, { title: 'Acme GmbH', value: { amount: 50, currency: 'EUR' } }); // v2 at the office
    const shown = await anna.client.crm.deals.update(d.id, { title: 'Acme GmbH' }); // the device shows v2 with 1000 EUR
    expect(shown).toMatchObject({ version: 2, value: { amount: 1000 } });
    anna.network.online = true;
    await anna.client.syncNow();
    const verdict = await anna.client.crm.deals.lose(d.id, { reason: 'price', version: shown.version }).then(() => 'recorded', (e: { code: string }) => e.code);
    await anna.client.syncNow();
    const rejected = anna.client.status().rejected.map((r) => [r.name, r.error.code]);
    // Refused on the device or by the server: the office's amount change is a write she never saw.
    expect(verdict === 'CONFLICT' || rejected.some(([name, code]) => name === 'deals.lose' && code === 'CONFLICT')).toBe(true);
    expect((await o.crm.deals.get(d.id)).status).toBe('open');
  });

  it('control (fix13k): her own rename confirmed, nobody else wrote: the lose at the predicted version she was shown is taken', async () => {
    const { o, d, anna } = await setup();
    const shown = await anna.client.crm.deals.update(d.id, { title: 'Acme renewal' }); // predicted v2
    anna.network.online = true;
    await anna.client.syncNow(); // the server's v2 is her rename
    const verdict = await anna.client.crm.deals.lose(d.id, { reason: 'price', version: shown.version }).then(() => 'recorded', (e: { code: string }) => e.code);
    await anna.client.syncNow();
    expect({ verdict, rejected: anna.client.status().rejected.length, server: (await o.crm.deals.get(d.id)).status }).toEqual({ verdict: 'recorded', rejected: 0, server: 'lost' });
  });
});

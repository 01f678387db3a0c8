import { activities } from '@crmkit/core/activities';
import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type PushRequest } from '../../src/index.js';
import { office } from './harness.js';

/** A device whose pushes are recorded and whose pulls can be held back (a rebase after a rejection, before the pull). */
async function device(server: { handle(r: Request): Promise<Response> }, user: string) {
  const network = { push: true, pull: true };
  const pushed: PushRequest[] = [];
  const wire = inProcessTransport(server, { headers: () => ({ authorization: `Bearer token-${user}` }) });
  const crm = await createCrm({
    storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', actor: { userId: user }, logger: silentLogger,
    clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 21 },
    features: [tasks(), activities(), customFields(), syncReplica()] as const,
  });
  const client = await createSyncClient({
    crm, start: false,
    transport: {
      push: (body, signal) => (network.push ? (pushed.push(body), wire.push(body, signal)) : Promise.reject(new TypeError('fetch failed'))),
      pull: (body, signal) => (network.pull ? wire.pull(body, signal) : Promise.reject(new TypeError('fetch failed'))),
    },
  });
  return { crm, client, network, pushed };
}

/**
 * fix13i (review13d D7/D5/D1/D2): a versioned command carries the server version the user's view rests on — the
 * shadow's base while pending commands changed the record — never the device's prediction, and no `after`; the
 * device runs and replays it at its live version when the sent one is that base (its own pending writes), so a
 * replay invents no local error the server would not give.
 */
describe('fix13i: the server version the user saw, on the wire and in the device run', () => {
  it('an edit then a lose: the lose carries the pulled version; the replay after a rejection keeps it applied', async () => {
    const o = await office();
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    const task = await o.crm.tasks.create({ subject: 'Call', ownerId: 'anna', dueAt: '2026-01-06T10:00:00.000Z' });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    const seen = (await anna.client.crm.deals.get(deal.id)).version;
    anna.network.push = anna.network.pull = false;
    await o.crm.tasks.update(task.id, { subject: 'Call Acme' }); // the office: the completion below is a CONFLICT
    await anna.client.crm.tasks.complete(task.id);
    await anna.client.crm.deals.update(deal.id, { title: 'Acme 2' });
    await anna.client.crm.deals.lose(deal.id, { reason: 'price' });
    expect((await anna.client.crm.deals.get(deal.id)).version).toBe(seen + 2); // the device's own numbering
    anna.network.push = true; // the pull stays down: the rejection's rebase replays the accepted commands
    await expect(anna.client.syncNow()).rejects.toThrow();
    const lose = anna.pushed.flatMap((p) => p.commands).find((c) => c.name === 'deals.lose')!;
    expect([(lose.args[1] as { version: number }).version, lose.after]).toEqual([seen, undefined]);
    expect(anna.client.status().rejected.map((r) => r.name)).toEqual(['tasks.complete']);
    expect(anna.client.status().deferred).toEqual([]);
    const shown = await anna.client.crm.deals.get(deal.id);
    expect([shown.status, shown.title]).toEqual(['lost', 'Acme 2']);
    expect((await o.crm.deals.get(deal.id)).status).toBe('lost');
  });

  it('a version below the base (a foreign write pulled since) is checked as sent: the device refuses it as the server would', async () => {
    const o = await office();
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    const seen = (await anna.client.crm.deals.get(deal.id)).version;
    await o.crm.deals.update(deal.id, { title: 'Acme (office)' });
    await anna.client.syncNow();
    await expect(anna.client.crm.deals.lose(deal.id, { reason: 'price', version: seen })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(o.crm.as({ userId: 'anna' }).deals.lose(deal.id, { reason: 'price', version: seen })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

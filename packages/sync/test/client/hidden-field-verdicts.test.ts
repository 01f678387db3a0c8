import { CrmError, createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type SyncTransport } from '../../src/index.js';
import { office } from '../review13c/harness.js';

/** A device of `user` whose pushes the server refuses (503) while `refusing`: its pulls still run, and rebase the pending commands. */
async function deviceRefusingPushes(server: { handle(r: Request): Promise<Response> }, user: string) {
  const gate = { refusing: false };
  const wire = inProcessTransport(server, { headers: () => ({ authorization: `Bearer token-${user}` }) });
  const transport: SyncTransport = {
    push: (body, signal) => (gate.refusing ? Promise.reject(new CrmError('STORAGE', 'sync push: 503', { adapter: 'sync', status: 503 } as never)) : wire.push(body, signal)),
    pull: (body, signal) => wire.pull(body, signal),
  };
  const inner = createMemoryStorage();
  const crm = await createCrm({
    storage: replicaStorage(inner), tenantId: 'acme', actor: { userId: user }, logger: silentLogger,
    clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 5 },
    features: [tasks(), activities(), customFields(), syncReplica()] as const,
  });
  /** The device's event log (its pending commands' events). */
  const events = () => inner.transaction('r', async (tx) => (await tx.query('event', 'acme', {})).rows as unknown as { type: string; data: Record<string, unknown> }[]);
  /** The device's command log (syncCommand rows). */
  const commands = () => inner.transaction('r', async (tx) => (await tx.query('syncCommand', 'acme', {})).rows as unknown as { name: string; localError?: { code: string }; deferred?: string }[]);
  return { client: await createSyncClient({ crm, transport, start: false }), gate, commands, events };
}

describe('review13c C2: what the server hides decides what is left to it', () => {
  it('the pull lists the hidden fields (with those they reveal), and none for rules that hide nothing', async () => {
    const o = await office();
    const pull = (user: string) => o.server.handle(new Request('http://x/sync/pull', { method: 'POST', headers: { authorization: `Bearer token-${user}`, 'content-type': 'application/json' }, body: JSON.stringify({ protocol: 1, clientId: 'cli_0000000000000000000001', checkpoint: null }) })).then((r) => r.json());
    expect((await pull('anna')).hidden).toEqual({ deal: ['value', 'lineItems', 'weightedValue', 'custom.margin'] });
    const open = await office({ denyDeal: [] });
    expect((await open.server.handle(new Request('http://x/sync/pull', { method: 'POST', headers: { authorization: 'Bearer token-anna', 'content-type': 'application/json' }, body: JSON.stringify({ protocol: 1, clientId: 'cli_0000000000000000000001', checkpoint: null }) })).then((r) => r.json())).hidden).toBeUndefined();
  });

  it('a pending command whose replay after a pull is refused by a rule on readable fields is not labelled deferred', async () => {
    const o = await office({ denyDeal: ['value'] });
    const { client, gate, commands } = await deviceRefusingPushes(o.server, 'anna');
    await client.syncNow();
    gate.refusing = true;
    await client.crm.deals.create({ title: 'Bolt', pipelineId: o.sales.id });
    await o.crm.pipelines.update(o.sales.id, { archived: true } as never); // the office archives the pipeline meanwhile
    await client.syncNow().catch(() => undefined); // the push is refused; the pull brings the archived pipeline and rebases
    expect(await commands()).toEqual([expect.objectContaining({ name: 'deals.create', localError: expect.objectContaining({ code: 'RULE_VIOLATION' }) })]);
    expect((await commands())[0]!.deferred).toBeUndefined();
    expect(client.status().deferred).toEqual([]);
  });

  it('C1: the events a device command logs show no placeholder either', async () => {
    const o = await office({ denyDeal: ['value'] });
    const deal = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', value: { amount: 120_000, currency: 'EUR' } });
    const { client, gate, events } = await deviceRefusingPushes(o.server, 'anna');
    await client.syncNow();
    gate.refusing = true; // the event stays in the device's log while its command is pending
    const won = await client.crm.deals.win(deal.id);
    expect('value' in won || 'weightedValue' in won).toBe(false);
    const logged = (await events()).find((e) => e.type === 'deal.won');
    expect(logged).toBeDefined();
    expect(logged!.data).not.toHaveProperty('amount');
  });
});

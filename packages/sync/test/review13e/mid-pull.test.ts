import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type SyncTransport } from '../../src/index.js';
import { office } from '../review13d/harness.js';

/**
 * review13e E4: during a pull, `applyPage` writes the pulled row into the record's *shadow* (the base) while the
 * live row — what the user sees — stays the device's until the rebase after the last page. A command made in
 * between gets fix13i's "shadow's base" as its version: the server's new version, which holds a write by someone
 * else the user was never shown. The server then takes it (stored = sent).
 */
describe('review13e E4: a command made while a pull is between pages rests on a base the user has not seen', () => {
  it('office advances; she renamed offline; during the pull that brings the advance she loses the deal she sees at "new": applied', async () => {
    const o = await office({});
    const d = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' });
    const e = await o.crm.deals.create({ title: 'Other', pipelineId: o.sales.id, ownerId: 'anna' });
    let online = true;
    let armed = false;
    let gating = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let waiting!: () => void;
    const atGate = new Promise<void>((r) => (waiting = r));
    const wire = inProcessTransport(o.server, { headers: () => ({ authorization: 'Bearer token-anna' }) });
    const transport: SyncTransport = {
      push: async (body, signal) => {
        if (!online) throw new TypeError('fetch failed');
        const answer = await wire.push(body, signal);
        await o.crm.deals.update(e.id, { title: 'Other (office)' }); // a later change: the pull has a second page
        return answer;
      },
      pull: async (body, signal) => {
        if (!online) throw new TypeError('fetch failed');
        if (armed) {
          armed = false;
          waiting();
          await gate; // the page after the one that brought the deal is slow
        }
        const page = await wire.pull(body, signal);
        if (gating && page.hasMore && page.rows.some((r) => r.row.id === d.id)) armed = true;
        return page;
      },
    };
    const crm = await createCrm({
      storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', actor: { userId: 'anna' }, logger: silentLogger,
      clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 11 }, features: [tasks(), activities(), customFields(), syncReplica()] as const,
    });
    const client = await createSyncClient({ crm, transport, start: false, pageRows: 1 });
    await client.syncNow();
    online = false;
    await o.crm.deals.advance(d.id); // the office moves it (v2): Anna is not shown this
    await client.crm.deals.update(d.id, { title: 'Acme renewal' }); // offline (device v2, base v1)
    online = true;
    gating = true; // the second page of the next pull waits
    const sync = client.syncNow();
    await atGate; // page 1 with the deal (the server's v3: advance + her rename) applied into the shadow; the rebase waits for the last page
    const seen = await client.crm.deals.get(d.id);
    const verdict = await client.crm.deals.lose(d.id, { reason: 'price' }).then(() => 'recorded', (err: { code: string }) => err.code);
    release();
    await sync;
    await client.syncNow();
    const rejected = client.status().rejected.map((r) => [r.name, r.error.code]);
    expect(seen).toMatchObject({ stageKey: 'new', title: 'Acme renewal' }); // what she saw when she lost it
    // She never saw the advance: refused on the device or by the server, the deal stays open.
    expect(verdict === 'CONFLICT' || rejected.some(([name, code]) => name === 'deals.lose' && code === 'CONFLICT')).toBe(true);
    expect((await o.crm.deals.get(d.id)).status).toBe('open');
  });
});

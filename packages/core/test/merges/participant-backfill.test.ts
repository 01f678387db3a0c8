import { describe, expect, it } from 'vitest';
import { createCrm, CrmError, type Logger, type StorageAdapter } from '@crmkit/core';
import { createTestCrm, allFeatures } from '@crmkit/core/testing';

// Review 16i #2: the schema-10 participants backfill gave up silently at the first CONFLICT (a concurrent writer of
// one of its rows), logged uncommitted rows as indexed, and merges then missed the unindexed participants.

/** The storage, with the first `conflicts` activity writes failing with CONFLICT (as a concurrent writer makes them fail). */
function conflicting(storage: StorageAdapter, gate: { left: number }): StorageAdapter {
  return new Proxy(storage, {
    get(target, key, receiver) {
      if (key !== 'transaction') return Reflect.get(target, key, receiver) as unknown;
      return (mode: 'r' | 'rw', fn: (tx: object) => Promise<unknown>) =>
        target.transaction(mode, (tx) =>
          fn(new Proxy(tx, {
            get(t, k, r) {
              if (k !== 'write') return Reflect.get(t, k, r) as unknown;
              return (entity: string, ...rest: unknown[]) => {
                if (entity === 'activity' && gate.left-- > 0) return Promise.reject(new CrmError('CONFLICT', 'a concurrent writer changed the row', { entity, id: 'a', expectedVersion: 1, actualVersion: 2 }));
                return (t.write as (...a: unknown[]) => Promise<unknown>).call(t, entity, ...rest);
              };
            },
          })),
        );
    },
  }) as StorageAdapter;
}

function recording(): Logger & { lines: [string, string, unknown][] } {
  const lines: [string, string, unknown][] = [];
  return { lines, debug: () => {}, info: (m, d) => lines.push(['info', m, d]), warn: (m, d) => lines.push(['warn', m, d]), error: (m, d) => lines.push(['error', m, d]) };
}

/** A tenant as storage schema 9 left it: activities with participants but no `participantContactIds`, no mark. */
async function schema9() {
  const { crm, storage, clock } = await createTestCrm();
  const [x, y] = await Promise.all(['X', 'Y'].map((name) => crm.contacts.create({ name })));
  const logged: { id: string; version: number }[] = [];
  for (let i = 0; i < 3; i++) logged.push(await crm.activities.log({ kind: 'call', participants: [{ contactId: y!.id }] }));
  await storage.transaction('rw', async (tx) => {
    for (const a of logged) {
      const { participantContactIds: _ids, ...row } = (await crm.activities.get(a.id)) as unknown as Record<string, unknown>;
      await tx.write('activity', 'test', [{ type: 'update', row: row as never, expectedVersion: a.version }]);
    }
    await tx.write('setting', 'test', [{ type: 'delete', id: 'participantIndex', expectedVersion: 1 }]);
  });
  return { storage, clock, x: x!, y: y!, logged };
}

const start = (storage: StorageAdapter, clock: Parameters<typeof createCrm>[0]['clock'], logger: Logger) =>
  createCrm({ storage, tenantId: 'test', actor: { userId: 'anna' }, clock, logger, closeStorage: false, features: allFeatures() });

describe('the schema-10 participants backfill', () => {
  it('retries a page that meets CONFLICT, logs only committed rows, bumps versions and sets the mark', async () => {
    const { storage, clock, x, y, logged } = await schema9();
    const logger = recording();
    const crm = await start(conflicting(storage, { left: 2 }), clock, logger);
    expect(logger.lines).toEqual([['info', 'crmkit: indexed activity participants', { activities: 3 }]]);
    for (const a of logged) expect(await crm.activities.get(a.id)).toMatchObject({ version: a.version + 1, participantContactIds: [y.id] });
    const { merge } = await crm.merges.contacts(x.id, [y.id]);
    expect(merge.links.filter((l) => l.field === 'participants')).toHaveLength(3);
    await crm.close();
  });

  it('warns when it cannot finish; merges meanwhile still find the unindexed participants (a scan)', async () => {
    const { storage, clock, x, y, logged } = await schema9();
    const logger = recording();
    const gate = { left: 1000 };
    const crm = await start(conflicting(storage, gate), clock, logger);
    gate.left = 0;
    expect(logger.lines).toEqual([['warn', expect.stringContaining('did not finish'), { activities: 0 }]]);
    const { merge } = await crm.merges.contacts(x.id, [y.id]);
    expect(merge.links.filter((l) => l.field === 'participants').map((l) => l.id).sort()).toEqual(logged.map((a) => a.id).sort());
    for (const a of logged) expect(await crm.activities.get(a.id)).toMatchObject({ participants: [{ contactId: x.id }], participantContactIds: [x.id] });
    await crm.close();
  });
});

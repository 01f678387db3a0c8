import { createCrm, createMemoryStorage, silentLogger, type StorageAdapter } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import type { StorageTx } from '@crmkit/core/storage';
import { syncChanges } from '@crmkit/sync/server';
import { describe, expect, it } from 'vitest';
import type { PullResponse } from '../../src/protocol/messages.js';
import { device, post, serverOf } from './support.js';

/** `inner` counting reads of the access directory row. */
function countingDirectoryReads(inner: StorageAdapter) {
  const counts = { directory: 0 };
  const storage = new Proxy(inner, {
    get(target, key, receiver) {
      if (key !== 'transaction') return Reflect.get(target, key, receiver) as unknown;
      return (mode: never, fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(new Proxy(tx, {
        get(t, k, r) {
          if (k !== 'getMany') return Reflect.get(t, k, r) as unknown;
          return (entity: string, tenant: string, ids: readonly string[]) => {
            if (entity === 'setting' && ids.includes('accessDirectory')) counts.directory++;
            return t.getMany(entity, tenant, ids);
          };
        },
      })));
    },
  });
  return { storage, counts };
}

/** review13b notes / sync13k: the scope fingerprint is kept per guard (one per principal and configuration revision). */
describe('scope fingerprint cache', () => {
  it('a pull with nothing changed reads no directory; a directory change in another process still resets the device', async () => {
    const { storage, counts } = countingDirectoryReads(createMemoryStorage());
    const { crm, server, pipeline } = await serverOf(() => storage, { access: true, storage });
    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] } as never);
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'ben', teamIds: ['north'] }] } as never);
    await crm.deals.create({ title: 'Bens', pipelineId: pipeline.id, ownerId: 'ben' });
    const anna = device(171);
    let checkpoint = (await post<PullResponse>(server, 'pull', anna.pull(null), 'anna')).body.checkpoint;
    counts.directory = 0;
    const again = await post<PullResponse>(server, 'pull', anna.pull(checkpoint), 'anna');
    expect({ reset: again.body.reset, directoryReads: counts.directory }).toEqual({ reset: undefined, directoryReads: 0 });
    checkpoint = again.body.checkpoint;
    // Another server process on the same database moves anna to another team.
    const other = await createCrm({ storage, tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, closeStorage: false, features: [tasks(), activities(), access(), syncChanges()] as const });
    await other.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['south'] }, { id: 'ben', teamIds: ['north'] }] } as never);
    const moved = await post<PullResponse>(server, 'pull', anna.pull(checkpoint), 'anna');
    expect(moved.body.reset).toBe('begin');
    expect(moved.body.rows.filter((r) => r.entity === 'deal')).toEqual([]);
  });
});

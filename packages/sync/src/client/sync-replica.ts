import type { CrmContext, CrmFeature } from '@crmkit/core';
import { invalid } from '../protocol/errors.js';
import { replicaOf } from './replica-storage.js';

/** `crm.sync` of a device crm: a marker (the sync client works through `createSyncClient`). */
export interface SyncReplicaApi {
  readonly replica: true;
}

const CONTEXT = new WeakMap<object, CrmContext>();
const CLOSERS = new WeakMap<CrmContext, Set<() => Promise<void>>>();

/** Runs `stop` when the device crm closes (a sync client stops its loop first); returns the unregister function. */
export function onReplicaClose(ctx: CrmContext, stop: () => Promise<void>): () => void {
  const set = CLOSERS.get(ctx);
  set?.add(stop);
  return () => void set?.delete(stop);
}

/** The device crm's own context (the root, not a view's), or `undefined` without `syncReplica()`. */
export function replicaContext(crm: object): CrmContext | undefined {
  const api = (crm as { sync?: object }).sync;
  return api ? CONTEXT.get(api) : undefined;
}

/**
 * Makes a crm a device of device sync (design sync.md §8): `createSyncClient` needs it to run commands
 * in the crm's context. The crm's storage must be a `replicaStorage`. `crm.close()` stops the crm's
 * sync clients (their loops end, a running cycle is awaited).
 *
 * @throws CrmError `VALIDATION` (`replica_storage`) from `createCrm` when the storage is not a `replicaStorage`.
 * @example
 * const local = await createCrm({ storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', features: [tasks(), activities(), syncReplica()] });
 */
export function syncReplica(): CrmFeature<'sync', SyncReplicaApi> {
  return {
    key: 'sync',
    setup(ctx) {
      if (!replicaOf(ctx.storage)) throw invalid('syncReplica', [{ path: ['storage'], code: 'replica_storage', message: 'must be a replicaStorage(inner)' }]);
      const api: SyncReplicaApi = Object.freeze({ replica: true as const });
      CONTEXT.set(api, ctx);
      const closers = new Set<() => Promise<void>>();
      CLOSERS.set(ctx, closers);
      return {
        api: () => api,
        async close() {
          for (const stop of [...closers]) await stop();
        },
      };
    },
  };
}

import type { CrmContext, CrmFeature } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { changeKey, isSynced, SYNCED_ENTITIES, splitChangeKey } from '../protocol/synced-entities.js';

/** The `nextSequence` counter of change positions. */
export const SYNC_SEQUENCE = 'sync';

/** Where `createSyncServer` finds the crm's context (the feature's own, not a view's). */
export const SYNC_CONTEXT: unique symbol = Symbol('crmkit.syncContext');

/** `crm.syncChanges`. */
export interface SyncChangesApi {
  /** The highest change position of the tenant (0 before the first change). */
  head(): Promise<number>;
}

/** A `syncChange` row: one per synced record, at the position of its last write. */
export interface SyncChangeRow extends Row {
  readonly position: number;
  /**
   * The first position of the transaction that wrote it: a pull page never splits a transaction. Not
   * indexed: a transaction's positions are contiguous, so pull reads on by position while it matches.
   */
  readonly txPosition: number;
  readonly entity: string;
  readonly recordId: string;
  /** A tombstone: the record was deleted. Absent on live records (rows of schema 12: `false`), so only tombstones are in the sparse `tombstone` index. */
  readonly deleted?: boolean;
  /**
   * Written by a pushed command of this sync client (design sync.md §25): with `from`, the record's version
   * before that client's unbroken run of writes began, and `v`, its version after the last. Absent on other writes.
   */
  readonly by?: string;
  readonly from?: number;
  readonly v?: number;
  readonly updatedAt: string;
}

/** The sync client whose pushed command runs in a transaction (set by the push): the hook marks the records it writes as that client's. */
export const PUSHED_BY = new WeakMap<StorageTx, string>();

/** The setting holding the highest pruned tombstone position: checkpoints below it start a reset. */
export const HORIZON = 'syncHorizon';

/** Reads the tenant's change head: the highest position stored or pruned (it never goes back). */
export async function readHead(tx: StorageTx, tenantId: string): Promise<number> {
  const [{ rows }, [horizon]] = await Promise.all([
    tx.query('syncChange', tenantId, { sort: [{ field: 'position', direction: 'desc' }], limit: 1 }),
    tx.getMany('setting', tenantId, [HORIZON]),
  ]);
  return Math.max((rows[0] as SyncChangeRow | undefined)?.position ?? 0, (horizon as { value?: number } | undefined)?.value ?? 0);
}

/**
 * Gives each synced key of `keys` a new change position (reserved in `tx`, so positions become
 * visible in commit order) and writes its `syncChange` row. `deleted(key)`: the record is gone.
 */
export async function recordPositions(tx: StorageTx, tenantId: string, keys: readonly string[], written: (key: string) => Row | null | undefined, now: string): Promise<void> {
  if (!keys.length) return;
  const first = await tx.nextSequence(SYNC_SEQUENCE, tenantId, keys.length);
  const stored = (await tx.getMany('syncChange', tenantId, keys)) as (SyncChangeRow | undefined)[];
  const by = PUSHED_BY.get(tx);
  await tx.write('syncChange', tenantId, keys.map((key, i) => {
    const before = stored[i];
    const row = written(key);
    // A run of one client's writes goes on while nobody else writes the record (an operation bumps a version by one: `from` never claims more).
    const own = by && row ? { by, from: before?.by === by && before.v === row.version - 1 ? before.from! : row.version - 1, v: row.version } : {};
    const change = { ...splitChangeKey(key), id: key, tenantId, version: (before?.version ?? 0) + 1, createdAt: before?.createdAt ?? now, updatedAt: now, position: first + i, txPosition: first, ...(row === null ? { deleted: true } : {}), ...own } as SyncChangeRow;
    return before ? { type: 'update' as const, row: change, expectedVersion: before.version } : { type: 'insert' as const, row: change };
  }));
}

const BACKFILL = 'syncBackfill';

/** Writes sync's own `setting` row `key` (not a synced setting): bookkeeping, outside any operation. */
export function writeSetting(tx: StorageTx, tenantId: string, stored: Row | undefined, key: string, value: unknown, now: string): Promise<void> {
  const row = { id: key, tenantId, version: (stored?.version ?? 0) + 1, createdAt: stored?.createdAt ?? now, updatedAt: now, key, value } as Row;
  return tx.write('setting', tenantId, [stored ? { type: 'update', row, expectedVersion: stored.version } : { type: 'insert', row }]);
}

/**
 * Gives every synced record written before the feature was installed a change position, entity by
 * entity in id order, `chunk` records per transaction; resumable through the `syncBackfill` setting
 * (`{ entity, after }`, `{ done: true }` at the end).
 */
async function backfill(ctx: CrmContext, chunk: number): Promise<void> {
  const tenant = ctx.tenantId;
  type State = { done?: true; entity?: string; after?: string };
  const read = async (tx: StorageTx) => (await tx.getMany('setting', tenant, [BACKFILL]))[0] as (Row & { value: State }) | undefined;
  for (;;) {
    const finished = await ctx.storage.transaction('rw', async (tx) => {
      const stored = await read(tx);
      const state = stored?.value ?? {};
      if (state.done) return true;
      const index = Math.max(0, SYNCED_ENTITIES.indexOf((state.entity ?? SYNCED_ENTITIES[0]) as never));
      const entity = SYNCED_ENTITIES[index]!;
      const page = await tx.query(entity, tenant, { sort: [{ field: 'id' }], limit: chunk, ...(state.after ? { filter: { op: 'gt', field: 'id', value: state.after } } : {}) });
      const keys = page.rows.filter((r) => isSynced(entity, r.id)).map((r) => changeKey(entity, r.id));
      const known = await tx.getMany('syncChange', tenant, keys);
      const now = new Date(ctx.clock.now()).toISOString();
      await recordPositions(tx, tenant, keys.filter((_, i) => !known[i]), () => undefined, now);
      const last = page.rows.at(-1)?.id;
      const next: State = page.rows.length < chunk ? (index + 1 < SYNCED_ENTITIES.length ? { entity: SYNCED_ENTITIES[index + 1]! } : { done: true }) : { entity, after: last! };
      await writeSetting(tx, tenant, stored, BACKFILL, next, now);
      return next.done === true;
    });
    if (finished) return;
  }
}

/**
 * The server side of device sync: records a change position for every synced row each write
 * operation commits (`FeatureHooks.sync`), in its transaction, and on start gives positions to
 * records written before it was installed (`backfillChunk` records per transaction, default 500).
 * `createSyncServer` requires it.
 *
 * @example
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [tasks(), activities(), syncChanges()] });
 */
export function syncChanges(options: { readonly backfillChunk?: number } = {}): CrmFeature<'syncChanges', SyncChangesApi> {
  const chunk = options.backfillChunk ?? 500;
  return {
    key: 'syncChanges',
    setup(ctx) {
      const api: SyncChangesApi & { [SYNC_CONTEXT]: CrmContext } = {
        head: () => ctx.storage.transaction('r', (tx) => readHead(tx, ctx.tenantId)),
        [SYNC_CONTEXT]: ctx,
      };
      return {
        api: () => api,
        hooks: {
          sync: {
            // Bookkeeping is dated by the server's clock, not the operation's (a pushed command's business time).
            recordChanges(tx, written) {
              const keys = [...written.keys()].filter((key) => {
                const { entity, recordId } = splitChangeKey(key);
                return isSynced(entity, recordId);
              });
              return recordPositions(tx, ctx.tenantId, keys, (key) => written.get(key), new Date(ctx.clock.now()).toISOString());
            },
          },
        },
        start: () => backfill(ctx, chunk),
      };
    },
  };
}

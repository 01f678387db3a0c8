import type { ChangeBatch, CrmError, StorageAdapter } from '@crmkit/core';
import { deliverChangeBatch, type Row, type StorageTx, type WriteOp } from '@crmkit/core/storage';
import { invalid } from '../protocol/errors.js';
import { CONFIG_ENTITIES, changeKey, isSynced } from '../protocol/synced-entities.js';

/** Who opened a device transaction (design sync.md §8): a command run, a pull page's apply, a rebase. */
export type ReplicaTxKind = 'command' | 'apply' | 'rebase';

/** The sync client's handle on a replica (reachable only through `replicaOf`). */
export interface ReplicaControl {
  /** A read-write transaction owned by the sync client: no write guard; `command` records shadows (and the command's seq, `seqOf()` at the write, in them). */
  transaction<T>(kind: ReplicaTxKind, fn: (tx: StorageTx) => Promise<T>, seqOf?: () => number | undefined): Promise<T>;
  /** Buffers change batches until `release`, which hands them on as one (a rebase's many transactions). */
  hold(): void;
  release(): void;
}

const REPLICA: unique symbol = Symbol('crmkit.replica');

/** Entities of sync's own bookkeeping on the device: never shadowed. */
const OWN: ReadonlySet<string> = new Set(['syncCommand', 'syncShadow', 'syncTag']);

/** A device's shadow row (id `entity:recordId`): the confirmed (base) row of a record a pending command changed, `null` when it did not exist. */
export interface ShadowRow extends Row {
  readonly entity: string;
  readonly recordId: string;
  readonly row: Row | null;
  /** The standing commands that changed the record since that base row, in seq order (absent in shadows of older versions). */
  readonly seqs?: readonly number[];
  /**
   * The server version the live view rests on when a pull has replaced `row` since (set by the first
   * page that does, until the rebase deletes the shadow; review13e E4): commands made between pages are
   * sent with the version the user was shown, not the freshly pulled one.
   */
  readonly shown?: number;
}

/** The server version a shadowed record's live view rests on: `shown`, else its base row's (1 for a record a pending command created). */
export const shownVersion = (shadow: ShadowRow): number => shadow.shown ?? shadow.row?.version ?? 1;

/** The sync client's handle on `storage`, or `undefined` when it is not a `replicaStorage`. */
export function replicaOf(storage: StorageAdapter): ReplicaControl | undefined {
  return (storage as { [REPLICA]?: ReplicaControl })[REPLICA];
}

const idOf = (op: WriteOp) => (op.type === 'delete' ? op.id : op.row.id);

/** Configuration is refused even through `client.crm` (no command carries it): the message says where it changes instead. */
function localWrite(entity: string): CrmError<'VALIDATION'> {
  const message = CONFIG_ENTITIES.has(entity)
    ? 'configuration changes on the server only'
    : 'records synced from the server change through client.crm (the sync client), not directly';
  return invalid('storage.write', [{ path: [entity], code: 'sync_local_write', message }]);
}

/** `tx` with its writes passed through `write`. */
function withWrite(tx: StorageTx, write: StorageTx['write']): StorageTx {
  return {
    getMany: (...a) => tx.getMany(...a),
    query: (...a) => tx.query(...a),
    aggregate: (...a) => tx.aggregate(...a),
    nextSequence: (...a) => tx.nextSequence(...a),
    claim: (...a) => tx.claim(...a),
    lockKeys: (...a) => tx.lockKeys(...a),
    write,
  };
}

/**
 * Before the first write of each record in a command transaction: its current row into `syncShadow`
 * unless a shadow exists, and the command's `seq` added to the shadow's `seqs`.
 */
function shadowing(tx: StorageTx, seqOf: () => number | undefined): StorageTx {
  const seen = new Set<string>();
  return withWrite(tx, async (entity, tenantId, ops) => {
    if (!OWN.has(entity)) {
      const ids = [...new Set(ops.map(idOf))].filter((id) => !seen.has(changeKey(entity, id)));
      if (ids.length) {
        const keys = ids.map((id) => changeKey(entity, id));
        const [shadows, rows] = await Promise.all([tx.getMany('syncShadow', tenantId, keys) as Promise<(ShadowRow | undefined)[]>, tx.getMany(entity, tenantId, ids)]);
        const seq = seqOf();
        const mine = seq === undefined ? {} : { seqs: [seq] };
        const writes = keys.flatMap((id, i): WriteOp[] => {
          const shadow = shadows[i];
          if (!shadow) return [{ type: 'insert', row: { id, tenantId, version: 1, entity, recordId: ids[i]!, row: rows[i] ?? null, ...mine } as ShadowRow }];
          if (seq === undefined || shadow.seqs?.includes(seq)) return [];
          return [{ type: 'update', row: { ...shadow, version: shadow.version + 1, seqs: [...(shadow.seqs ?? []), seq] }, expectedVersion: shadow.version }];
        });
        if (writes.length) await tx.write('syncShadow', tenantId, writes);
        for (const key of keys) seen.add(key);
      }
    }
    return tx.write(entity, tenantId, ops);
  });
}

/**
 * Wraps a device crm's storage adapter for device sync (design sync.md §8):
 * - the sync client opens its own transactions through it (commands record **shadows**: the confirmed
 *   row of each record before a pending command first changed it, so a rebase can restore it);
 * - any other read-write transaction that writes a synced entity (a record, a pipeline, a synced
 *   setting) fails with `VALIDATION` (issue code `sync_local_write`): every change of the device goes
 *   through the command log (`client.crm`) or arrives from the server;
 * - change batches are held during a rebase and handed on as one.
 *
 * One replica per user and tenant: a device switching users uses another database.
 *
 * @param inner The device's adapter (IndexedDB in a browser, SQLite or memory in Node).
 * @returns An adapter to pass to `createCrm({ storage, features: [..., syncReplica()] })`.
 * @example
 * const local = await createCrm({ storage: replicaStorage(createIndexedDbStorage({ name: 'crm-acme-anna' })), tenantId: 'acme', features: [tasks(), activities(), syncReplica()] });
 */
export function replicaStorage(inner: StorageAdapter): StorageAdapter {
  const listeners = new Set<(batch: ChangeBatch) => void>();
  let held: ChangeBatch[] | undefined;
  let off: (() => void) | undefined;
  // A listener's throw (a UI's bug) is logged, never thrown into the commit or the rebase that emits.
  const emit = (batch: ChangeBatch) => deliverChangeBatch(listeners, batch);
  const control: ReplicaControl = {
    transaction: (kind, fn, seqOf = () => undefined) => inner.transaction('rw', (tx) => fn(kind === 'command' ? shadowing(tx, seqOf) : tx)),
    hold: () => void (held ??= []),
    release() {
      const batches = held ?? [];
      held = undefined;
      const changes = batches.flatMap((b) => b.changes);
      if (changes.length) emit({ source: 'local', changes });
    },
  };
  const guarded = (tx: StorageTx) =>
    withWrite(tx, (entity, tenantId, ops) => {
      if (ops.some((op) => isSynced(entity, idOf(op)))) throw localWrite(entity);
      return tx.write(entity, tenantId, ops);
    });
  const adapter: StorageAdapter & { [REPLICA]: ReplicaControl } = {
    name: inner.name,
    capabilities: inner.capabilities,
    open: (schema) => inner.open(schema),
    transaction: (mode, fn) => inner.transaction(mode, (tx) => fn(mode === 'rw' ? guarded(tx) : tx)),
    ...(inner.getMany ? { getMany: inner.getMany.bind(inner) } : {}),
    ...(inner.aggregate ? { aggregate: inner.aggregate.bind(inner) } : {}),
    onChange(listener) {
      listeners.add(listener);
      off ??= inner.onChange((batch) => (held && batch.source === 'local' ? held.push(batch) : emit(batch)));
      return () => {
        listeners.delete(listener);
        if (!listeners.size) {
          off?.();
          off = undefined;
        }
      };
    },
    ensureIndexes: (indexes) => inner.ensureIndexes(indexes),
    ...(inner.databaseTime ? { databaseTime: inner.databaseTime.bind(inner) } : {}),
    close: () => inner.close(),
    [REPLICA]: control,
  };
  return adapter;
}

import { EventBus } from '../crm/event-bus.js';
import type { Logger } from '../crm/logger.js';
import type { CrmEvent } from '../events/event-map.js';
import type { Row, StorageAdapter, StorageTx } from '../storage/storage-adapter.js';
import { FEED_SEQUENCE } from '../crm/operation.js';
import type { AutomationCause } from './automation-schema.js';

/**
 * Holds the events of the services a run calls until the run's transaction commits (then
 * `flush` emits them on the crm's bus): handlers must never see events that were rolled back.
 */
export class HeldEvents extends EventBus {
  readonly held: CrmEvent[] = [];

  constructor(logger: Logger) {
    super(logger);
  }

  override emitAll(events: readonly CrmEvent[]): void {
    this.held.push(...events);
  }
}

/** A run's storage and how it hands its events to the feed. */
export interface RunStorage {
  readonly storage: StorageAdapter;
  /**
   * Reserves the feed positions of every event the run recorded (its actions' and its own) and writes
   * them: called last, after the run-log row. @returns Nothing; the stamped events carry their positions.
   */
  settle(): Promise<void>;
}

/**
 * A storage adapter bound to one open transaction: `transaction()` runs its callback in that
 * transaction, so every service a run calls commits (or rolls back) together with the run-log entry.
 * Events written through it carry `cause` (the run), which is how loop protection and the depth
 * limit see that an event came from automation.
 *
 * Lock order: the services a run calls would each reserve feed positions when they finish (the feed's
 * counter, held until commit), and the run would then lock more rows — the next action's records, its
 * run-log row — after it: the opposite of every other writer (rows, then the feed, last: see
 * `StorageTx.nextSequence`), a deadlock on PostgreSQL with `automations.disable` (it cancels waiting runs) or a
 * plain update of a record a later action writes. So the feed counter is only pretended here: the
 * events are held and `settle` reserves their positions in one go at the run's end.
 */
export function scopedStorage(root: StorageAdapter, tx: StorageTx, cause: AutomationCause, stamped: Map<string, CrmEvent>): RunStorage {
  const held: Row[] = [];
  let tenant = '';
  let next = 1;
  const bound: StorageTx = {
    getMany: (entity, tenantId, ids) => tx.getMany(entity, tenantId, ids),
    query: (entity, tenantId, spec) => tx.query(entity, tenantId, spec),
    aggregate: (entity, tenantId, spec) => tx.aggregate(entity, tenantId, spec),
    // Positions handed out now are replaced by `settle` (nothing reads them before: the events are held).
    nextSequence: (name, tenantId, count) => (name === FEED_SEQUENCE ? Promise.resolve((next += count) - count) : tx.nextSequence(name, tenantId, count)),
    claim: (entity, tenantId, spec) => tx.claim(entity, tenantId, spec),
    lockKeys: (tenantId, keys, shared) => tx.lockKeys(tenantId, keys, shared),
    ...(tx.setOwnerKeys ? { setOwnerKeys: (tenantId, keys, all) => tx.setOwnerKeys!(tenantId, keys, all) } : {}),
    async write(entity, tenantId, ops) {
      if (entity !== 'event') return tx.write(entity, tenantId, ops);
      tenant = tenantId;
      for (const op of ops) {
        if (op.type === 'insert') held.push({ ...op.row, cause });
        else await tx.write(entity, tenantId, [op]);
      }
    },
  };
  return {
    storage: {
      name: root.name,
      capabilities: root.capabilities,
      open: () => Promise.resolve(),
      transaction: (_mode, fn) => fn(bound),
      getMany: (entity, tenantId, ids) => tx.getMany(entity, tenantId, ids),
      onChange: () => () => undefined,
      ensureIndexes: (indexes) => root.ensureIndexes(indexes),
      close: () => Promise.resolve(),
    },
    async settle() {
      if (!held.length) return;
      let position = await tx.nextSequence(FEED_SEQUENCE, tenant, held.length);
      // A run's events are few (its actions'): one write.
      const rows = held.map((row) => {
        const placed = Object.freeze({ ...row, position: position++ });
        stamped.set(placed.id, placed as unknown as CrmEvent);
        return { type: 'insert' as const, row: placed };
      });
      await tx.write('event', tenant, rows);
    },
  };
}

import { EventBus } from '../crm/event-bus.js';
import type { Logger } from '../crm/logger.js';
import type { CrmEvent } from '../events/event-map.js';
import type { Row, StorageAdapter, StorageTx, WriteOp } from '../storage/storage-adapter.js';
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

/**
 * A storage adapter bound to one open transaction: `transaction()` runs its callback in that
 * transaction, so every service a run calls commits (or rolls back) together with the run-log entry.
 * Events written through it carry `cause` (the run), which is how loop protection and the depth
 * limit see that an event came from automation.
 */
export function scopedStorage(root: StorageAdapter, tx: StorageTx, cause: AutomationCause, stamped: Map<string, CrmEvent>): StorageAdapter {
  const bound: StorageTx = {
    getMany: (entity, tenantId, ids) => tx.getMany(entity, tenantId, ids),
    query: (entity, tenantId, spec) => tx.query(entity, tenantId, spec),
    aggregate: (entity, tenantId, spec) => tx.aggregate(entity, tenantId, spec),
    nextSequence: (name, tenantId, count) => tx.nextSequence(name, tenantId, count),
    claim: (entity, tenantId, spec) => tx.claim(entity, tenantId, spec),
    lockKeys: (tenantId, keys) => tx.lockKeys(tenantId, keys),
    write(entity, tenantId, ops) {
      if (entity !== 'event') return tx.write(entity, tenantId, ops);
      const withCause = ops.map((op): WriteOp => {
        if (op.type !== 'insert') return op;
        const row = Object.freeze({ ...op.row, cause }) as Row;
        stamped.set(row.id, row as unknown as CrmEvent);
        return { ...op, row };
      });
      return tx.write(entity, tenantId, withCause);
    },
  };
  return {
    name: root.name,
    capabilities: root.capabilities,
    open: () => Promise.resolve(),
    transaction: (_mode, fn) => fn(bound),
    getMany: (entity, tenantId, ids) => tx.getMany(entity, tenantId, ids),
    onChange: () => () => undefined,
    ensureIndexes: (indexes) => root.ensureIndexes(indexes),
    close: () => Promise.resolve(),
  };
}

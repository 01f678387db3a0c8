import type { StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';

/**
 * A storage adapter whose transactions all run in `tx`: services a push runs commit (or roll back)
 * together with the client's `lastSeq`.
 */
export function boundStorage(root: StorageAdapter, tx: StorageTx): StorageAdapter {
  return {
    name: root.name,
    capabilities: root.capabilities,
    open: () => Promise.resolve(),
    transaction: (_mode, fn) => fn(tx),
    getMany: (entity, tenantId, ids) => tx.getMany(entity, tenantId, ids),
    onChange: () => () => undefined,
    ensureIndexes: (indexes) => root.ensureIndexes(indexes),
    close: () => Promise.resolve(),
  };
}

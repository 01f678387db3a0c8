/**
 * The device page bundle for headless Chromium (design sync.md §13 test 1): a device crm on the
 * browser's IndexedDB behind `replicaStorage`, its sync client on the HTTP transport to the page's own
 * origin (the Node test server), and a board observer standing for the UI. `window.crmkitSync` is what
 * the Node test drives.
 */
import { createCrm, type StorageAdapter } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { observers } from '@crmkit/core/observe';
import { tasks } from '@crmkit/core/tasks';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import { createSyncClient, isSynced, replicaStorage, SYNCED_ENTITIES, syncReplica, type SyncStatus } from '@crmkit/sync';

export interface DeviceOptions {
  readonly user: string;
  readonly database: string;
  readonly pipelineId: string;
  /** Rows per pull page (default the client's 500). */
  readonly pageRows?: number;
}

async function startDevice(options: DeviceOptions) {
  const inner = createIndexedDbStorage({ name: options.database });
  const crm = await createCrm({ storage: replicaStorage(inner), tenantId: 'acme', actor: { userId: options.user }, features: [tasks(), activities(), observers(), syncReplica()] as const });
  const sync = await createSyncClient({ crm, endpoint: '/sync', headers: () => ({ 'x-user': options.user }), ...(options.pageRows ? { pageRows: options.pageRows } : {}) });
  // The UI: a board kept current by observers (pulled rows, optimistic commands, rollbacks).
  const board = crm.observe.board(options.pipelineId);
  const shown = { stageOf: {} as Record<string, string> };
  board.subscribe(() => {
    const stageOf: Record<string, string> = {};
    for (const column of board.getSnapshot().data?.columns ?? []) for (const deal of column.deals) stageOf[deal.id] = column.stage.key;
    shown.stageOf = stageOf;
  });
  return {
    crm, sync, inner,
    /** The stage each deal on the board is shown in (open deals only). */
    get stageOf() {
      return shown.stageOf;
    },
    status: (): SyncStatus => sync.status(),
    /** Every synced row the device's IndexedDB holds, by entity, in id order. */
    rows: () => syncedRows(inner),
  };
}

/** Synced rows of a storage (the same projection the Node side computes for the server). */
export async function syncedRows(storage: StorageAdapter): Promise<Record<string, unknown[]>> {
  return storage.transaction('r', async (tx) => {
    const out: Record<string, unknown[]> = {};
    for (const entity of SYNCED_ENTITIES) out[entity] = (await tx.query(entity, 'acme', { sort: [{ field: 'id' }] })).rows.filter((r) => isSynced(entity, r.id));
    return out;
  });
}

const api = {
  device: undefined as Awaited<ReturnType<typeof startDevice>> | undefined,
  async start(options: DeviceOptions) {
    api.device = await startDevice(options);
  },
};
export type DeviceApi = typeof api;
declare global {
  interface Window {
    crmkitSync: DeviceApi;
  }
}
window.crmkitSync = api;

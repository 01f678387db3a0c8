import type { Rights } from '../protocol/messages.js';
import type { Row, StorageTx } from '@crmkit/core/storage';

/** A recovery under a new client id: when (ISO timestamp), the new id, and what happened (for the user). */
export interface RenewedClient {
  readonly at: string;
  readonly clientId: string;
  readonly message: string;
}

/** The device's sync state (setting `syncState`, never synced). */
export interface SyncState {
  readonly clientId: string;
  /** The checkpoint of the last applied page (`null`: nothing pulled yet). */
  readonly checkpoint: string | null;
  /** Mark-and-sweep generation of `syncTag` rows: a reset's rows get the next one. */
  readonly epoch: number;
  /** The highest seq whose verdict the device stored: sent as `ackRejectedThrough`. */
  readonly verdictsThrough: number;
  /** The fields the server hides from the user, by record entity (the last page's `hidden`; design sync.md §24). */
  readonly hidden?: Readonly<Record<string, readonly string[]>>;
  /** The user's rights (the last page's `rights`; fix13j): the device judges writes with core's guard rebuilt from them. */
  readonly rights?: Rights;
  /** The first seq of `clientId` (absent: 1): set when the device took a new client id (`renewClient`). */
  readonly since?: number;
  /** End of the last complete pull cycle (ISO timestamp). */
  readonly lastSyncAt?: string;
  /** The server's clock minus the device's (ms) at the last complete pull: commands are dated by the server's clock. */
  readonly clockOffset?: number;
  /** The device's last recovery under a new client id (`renewClient`), until `client.dismiss([], { renewed: true })`. */
  readonly renewed?: RenewedClient;
  /**
   * Push answers stored, resends and renewals so far (any tab; absent: 0): an error answering a push read
   * at another count is stale and changes nothing (review13b B1, two tabs).
   */
  readonly pushes?: number;
  /**
   * Version numbers the device handed out as predictions and a rebase retired, by record (`entity:id`):
   * ranges `[base, upTo]` — `base` the server version those views rested on, `upTo` the last prediction
   * (review13e E1). A caller's version in `(base, upTo]` is sent as `base`. A few per record, bounded.
   */
  readonly retired?: Readonly<Record<string, readonly (readonly [number, number])[]>>;
  /** The device crm's actor when the state was made: the database holds this user's rows. */
  readonly userId?: string;
}

/** Id (and key) of the state's setting row. */
export const SYNC_STATE = 'syncState';

type StateRow = Row & { readonly value: SyncState; readonly createdAt: string };

/** Reads the state; `undefined` on a device that never started a sync client. */
export async function readState(tx: StorageTx, tenantId: string): Promise<SyncState | undefined> {
  const [row] = (await tx.getMany('setting', tenantId, [SYNC_STATE])) as (StateRow | undefined)[];
  return row?.value;
}

/** Writes `change` over the stored state (inserting `initial` first when there is none). */
export async function writeState(tx: StorageTx, tenantId: string, now: string, change: Partial<SyncState>, initial?: SyncState): Promise<SyncState> {
  const [row] = (await tx.getMany('setting', tenantId, [SYNC_STATE])) as (StateRow | undefined)[];
  const value = { ...(row?.value ?? initial!), ...change };
  const next = { id: SYNC_STATE, tenantId, version: (row?.version ?? 0) + 1, createdAt: row?.createdAt ?? now, updatedAt: now, key: SYNC_STATE, value };
  await tx.write('setting', tenantId, [row ? { type: 'update', row: next, expectedVersion: row.version } : { type: 'insert', row: next }]);
  return value;
}

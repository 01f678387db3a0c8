import { CrmError, type CrmContext } from '@crmkit/core';
import type { Verdicts } from './rebase.js';
import type { ReplicaControl } from './replica-storage.js';
import type { TagIndex } from './tag-packs.js';
import type { SyncTransport } from './transport.js';

/** What a sync cycle works with: the device crm's context, its replica, the transport and the lock. */
export interface Device {
  readonly ctx: CrmContext;
  readonly replica: ReplicaControl;
  readonly transport: SyncTransport;
  readonly tenant: string;
  /** Runs storage work of the device one piece at a time (`deviceLock`). */
  readonly serial: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The device clock's time (ISO timestamp). */
  now(): string;
  /** Rebases under the lock (design sync.md §8). */
  rebase(verdicts: Verdicts): Promise<void>;
  /** The exit tags as this client last stored them, valid while the stored checkpoint and epoch are the ones it wrote with them. */
  tags?: KnownTags;
}

/** A `TagIndex` and the state it was stored with (tags change only with the checkpoint; a reset changes the epoch). */
export interface KnownTags {
  readonly index: TagIndex;
  readonly checkpoint: string | null;
  readonly epoch: number;
}

/** The error of an unreachable server: `STORAGE`, `adapter: 'sync'`, retryable. */
export const offline = (operation: string, cause: unknown): CrmError<'STORAGE'> => new CrmError('STORAGE', 'The sync server cannot be reached', { adapter: 'sync', retryable: true, operation }, { cause });

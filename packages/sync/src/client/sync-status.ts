import type { CommandName } from '../protocol/commands.js';
import type { CrmErrorJson } from '../protocol/errors.js';
import type { DeferReason } from './defer-command.js';
import type { RenewedClient } from './sync-state.js';

/** A failure of the sync loop, or of one command the server could not run (`seq`; `stuck` after 5 attempts). */
export interface SyncError {
  readonly code: string;
  readonly message: string;
  /** When it happened (ISO timestamp). */
  readonly at: string;
  readonly seq?: number;
  readonly stuck?: boolean;
}

/** A command the server rejected: its call and verdict (kept until `client.dismiss`). */
export interface RejectedCommand {
  readonly seq: number;
  readonly name: CommandName;
  readonly args: readonly unknown[];
  /** When the user ran it (ISO timestamp of the device's clock). */
  readonly at: string;
  readonly error: CrmErrorJson;
}

/** A command recorded on the device but left to the server (`SyncStatus.deferred`): the device shows the record as it was until the verdict. */
export interface DeferredCommand {
  readonly seq: number;
  readonly name: CommandName;
  /** When the user ran it (ISO timestamp of the device's clock). */
  readonly at: string;
  readonly reason: DeferReason;
}

/** What a UI shows about sync (`client.status()`): a new object only when something changed. */
export interface SyncStatus {
  /**
   * What sync is doing, else how its last cycle ended — the same whether the loop or `syncNow()` ran it:
   * `syncing` a cycle runs; `idle` the last cycle succeeded (or the loop just started and none ended yet);
   * `offline` the last cycle could not reach the server (network, timeout, an answer that is not JSON);
   * `error` the server answered it with an error (`errors` holds it); `stopped` no cycle since the client
   * was made or `stop()`, and the loop does not run.
   */
  readonly state: 'idle' | 'syncing' | 'offline' | 'error' | 'stopped';
  /** Commands not yet confirmed by a pull (their effects are optimistic). */
  readonly pending: number;
  /** Commands the server has not answered. */
  readonly unpushed: number;
  /** End of the last complete pull cycle (ISO timestamp). */
  readonly lastSyncAt?: string;
  /** How the device hears of server changes. */
  readonly live: 'sse' | 'long-poll' | 'polling' | 'none';
  /** Progress of the first pull: rows received, whether it finished. */
  readonly initialSync?: { readonly rows: number; readonly done: boolean };
  readonly errors: readonly SyncError[];
  readonly rejected: readonly RejectedCommand[];
  /** Standing commands the device left to the server: listed until a pull brings the server's result, or a rejection moves one to `rejected`. */
  readonly deferred: readonly DeferredCommand[];
  /**
   * The server could not continue this device's commands (it was restored from a backup, or the device's
   * database was restored or copied) and the device went on under a new client id: when, the id, and a
   * message for the user (work the server lost that the device no longer held is gone). Kept until
   * `client.dismiss([], { renewed: true })`.
   */
  readonly renewed?: RenewedClient;
}

const shallowEqual = (a: object, b: object) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
};

/** A status snapshot and its listeners: `set` makes a new (frozen) snapshot only when a field changed. */
export class StatusStore {
  private snapshot: SyncStatus = Object.freeze({ state: 'stopped', pending: 0, unpushed: 0, live: 'none', errors: [], rejected: [], deferred: [] });
  private readonly listeners = new Set<() => void>();

  /** @param onListenerError Told of a listener that threw: the others still run, the change stands. */
  constructor(private readonly onListenerError: (error: unknown) => void = () => undefined) {}

  get(): SyncStatus {
    return this.snapshot;
  }

  /** Merges `change`; listeners hear of it when the snapshot changed. Lists compare by content (JSON). */
  set(change: Partial<SyncStatus>): void {
    const next = { ...this.snapshot, ...change };
    for (const key of ['errors', 'rejected', 'deferred', 'initialSync', 'renewed'] as const) {
      if (JSON.stringify(next[key]) === JSON.stringify(this.snapshot[key])) (next as Record<string, unknown>)[key] = this.snapshot[key];
    }
    for (const key of Object.keys(next) as (keyof SyncStatus)[]) if (next[key] === undefined) delete next[key];
    if (shallowEqual(next, this.snapshot)) return;
    this.snapshot = Object.freeze(next);
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}

import { useCallback, useSyncExternalStore } from 'react';

/**
 * What `useSyncStatus` reads: a store of status snapshots, such as `@crmkit/sync`'s `SyncClient`
 * (structural, so this package does not depend on `@crmkit/sync`).
 */
export interface SyncStatusSource<S> {
  /** The current snapshot: the same object until something changed. */
  status(): S;
  /** Calls `listener` after each change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/**
 * Subscribes a component to a sync client's status (`state`, `pending`, `live`, `rejected`, `errors`…):
 * it re-renders when the client reports a new snapshot and returns the same object until then, so
 * memoised children keep their props. On the server it renders the client's current snapshot.
 *
 * @param source The device's sync client (`createSyncClient` of `@crmkit/sync`); keep it stable across renders.
 * @returns The current status snapshot.
 * @example
 * const { state, pending, rejected } = useSyncStatus(sync);
 * return <p>{state === 'offline' ? `Offline: ${pending} changes waiting` : 'Synced'}</p>;
 */
export function useSyncStatus<S>(source: SyncStatusSource<S>): S {
  const subscribe = useCallback((listener: () => void) => source.subscribe(listener), [source]);
  const status = useCallback(() => source.status(), [source]);
  return useSyncExternalStore(subscribe, status, status);
}

/** Options of `createIndexedDbStorage`. */
export interface IndexedDbStorageOptions {
  /** Name of the IndexedDB database. One database holds every tenant; each entity is an object store. */
  readonly name: string;
  /**
   * How long opening the database may wait for other connections (another tab with an older version
   * that does not close) before it rejects with a retryable `STORAGE` error, in ms. Default 5000.
   */
  readonly blockedTimeoutMs?: number;
  /**
   * Cross-tab change propagation: a `BroadcastChannel` constructor, or `false` to turn it off.
   * Default: the global `BroadcastChannel` where it exists.
   */
  readonly broadcastChannel?: typeof BroadcastChannel | false;
}

import { createIndexedDbStorage, type IndexedDbStorageOptions } from '@crmkit/storage-indexeddb';
import type { EnvOptions } from './specs/env.js';

let counter = 0;

/**
 * Options for a fresh, empty database: a unique name in the global fake-indexeddb (test/setup-globals.ts),
 * so tests never share state. The implementation is named too, for tests that open raw connections.
 */
export function fakeOptions(extra: Partial<IndexedDbStorageOptions> = {}): EnvOptions {
  return { name: `crm-${++counter}-${Math.random().toString(36).slice(2, 8)}`, indexedDB: globalThis.indexedDB, IDBKeyRange: globalThis.IDBKeyRange, ...extra };
}

export function fakeStorage(extra: Partial<IndexedDbStorageOptions> = {}) {
  return createIndexedDbStorage(fakeOptions(extra));
}

// Entry point of @crmkit/storage-indexeddb. Explicit named exports only: everything here is public API.
export { createIndexedDbStorage, type IndexedDbStorage } from './indexeddb-storage.js';
export type { IndexedDbStorageOptions } from './indexeddb-storage-options.js';

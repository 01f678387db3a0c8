import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { createIndexedDbStorage, type IndexedDbStorageOptions } from '@crmkit/storage-indexeddb';

let counter = 0;

/** A fresh, empty fake IndexedDB per call: tests never share state. */
export function fakeOptions(extra: Partial<IndexedDbStorageOptions> = {}): IndexedDbStorageOptions {
  return { name: `crm-${++counter}-${Math.random().toString(36).slice(2, 8)}`, indexedDB: new IDBFactory(), IDBKeyRange, ...extra };
}

export function fakeStorage(extra: Partial<IndexedDbStorageOptions> = {}) {
  return createIndexedDbStorage(fakeOptions(extra));
}

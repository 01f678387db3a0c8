import { createRequire } from 'node:module';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import type { StorageAdapter } from '@crmkit/core';

// fake-indexeddb is a dev dependency of @crmkit/storage-indexeddb, installed as this process's globals
// (as that package's Node tests do): a device on IndexedDB without a browser. The real-browser run is
// WP4's Chromium test.
createRequire(new URL('../../../storage-indexeddb/package.json', import.meta.url))('fake-indexeddb/auto');

let counter = 0;

/** A fresh IndexedDB adapter on the fake engine. */
export function fakeIndexedDb(): StorageAdapter {
  return createIndexedDbStorage({ name: `sync-device-${++counter}-${Math.random().toString(36).slice(2, 8)}`, broadcastChannel: false });
}

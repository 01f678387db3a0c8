/**
 * The test page bundle for headless Chromium: the storage conformance suite (with its property-based
 * differential tests) and every shared IndexedDB suite, registered through the vitest shim against
 * the browser's real IndexedDB. `window.crmkitTests` exposes the list, a runner, and the library for
 * the multi-tab tests that Node drives across two pages.
 */
import { createCrm, where } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { describeAccessConformance, describeStorageConformance } from '@crmkit/core/testing/conformance';
import { createIndexedDbStorage, type IndexedDbStorageOptions } from '@crmkit/storage-indexeddb';
import { deleteDatabase, type EnvOptions, type IdbTestEnv } from '../specs/env.js';
import { failureTests } from '../specs/failure-spec.js';
import { plannerTests } from '../specs/planner-spec.js';
import { smokeTests } from '../specs/smoke-spec.js';
import { storedFormTests } from '../specs/stored-form-spec.js';
import { transactionTests } from '../specs/transaction-spec.js';
import { SCHEMA_V2, upgradeTests } from '../specs/upgrade-spec.js';
import { listTests, runTest } from './vitest-shim.js';

let counter = 0;
const created: string[] = [];

const env: IdbTestEnv = {
  label: 'chromium',
  options(extra: Partial<IndexedDbStorageOptions> = {}): EnvOptions {
    const name = `crm-${Date.now().toString(36)}-${++counter}`;
    created.push(name);
    return { name, indexedDB, IDBKeyRange, ...extra };
  },
  classes: { IDBObjectStore, IDBIndex, IDBTransaction },
};

describeStorageConformance(
  'indexeddb (chromium)',
  () => {
    const options = env.options();
    return { adapter: createIndexedDbStorage(options), reopen: async () => createIndexedDbStorage(options), peer: () => createIndexedDbStorage(options) };
  },
  createIndexedDbStorage({ name: 'capabilities' }).capabilities,
);
describeAccessConformance('indexeddb (chromium)', () => createIndexedDbStorage(env.options()));
transactionTests(env);
upgradeTests(env);
failureTests(env);
plannerTests(env, 60);
smokeTests(env);
storedFormTests(env);

/** Deletes the databases tests made (between tests, so the profile stays small). */
async function cleanup(): Promise<void> {
  const names = created.splice(0);
  // A connection a failed test left open would block the deletion: never wait for that.
  const patience = new Promise((resolve) => setTimeout(resolve, 2000));
  await Promise.race([patience, Promise.all(names.map((name) => deleteDatabase(indexedDB, name).catch(() => undefined)))]);
}

const api = {
  tests: listTests(),
  run: async (id: number) => {
    const outcome = await runTest(id);
    await cleanup();
    return outcome;
  },
  lib: { createIndexedDbStorage, createCrm, CRM_STORAGE_SCHEMA, SCHEMA_V2, where },
};

declare global {
  interface Window {
    crmkitTests: typeof api;
  }
}
window.crmkitTests = api;

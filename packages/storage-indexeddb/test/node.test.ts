import { forceCloseDatabase, IDBIndex, IDBObjectStore, IDBTransaction } from 'fake-indexeddb';
import { failureTests } from './specs/failure-spec.js';
import { plannerTests } from './specs/planner-spec.js';
import { smokeTests } from './specs/smoke-spec.js';
import { storedFormTests } from './specs/stored-form-spec.js';
import { transactionTests } from './specs/transaction-spec.js';
import { upgradeTests } from './specs/upgrade-spec.js';
import type { EnvOptions, IdbTestEnv } from './specs/env.js';
import { fakeOptions } from './fake-env.js';

const env: IdbTestEnv = {
  label: 'fake-indexeddb',
  options: (extra) => fakeOptions(extra) as EnvOptions,
  classes: { IDBObjectStore, IDBIndex, IDBTransaction } as unknown as IdbTestEnv['classes'],
  forceClose: (db) => forceCloseDatabase(db as never),
};

transactionTests(env);
upgradeTests(env);
failureTests(env);
plannerTests(env, 100);
smokeTests(env);
storedFormTests(env);

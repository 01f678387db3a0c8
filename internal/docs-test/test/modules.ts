import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import * as pglite from '@electric-sql/pglite';
import * as core from '@crmkit/core';
import * as activities from '@crmkit/core/activities';
import * as access from '@crmkit/core/access';
import * as timeline from '@crmkit/core/timeline';
import * as assignment from '@crmkit/core/assignment';
import * as automations from '@crmkit/core/automations';
import * as csv from '@crmkit/core/csv';
import * as customFields from '@crmkit/core/custom-fields';
import * as describe from '@crmkit/core/describe';
import * as duplicates from '@crmkit/core/duplicates';
import * as merges from '@crmkit/core/merges';
import * as feed from '@crmkit/core/feed';
import * as imports from '@crmkit/core/imports';
import * as observe from '@crmkit/core/observe';
import * as phone from '@crmkit/core/phone';
import * as reports from '@crmkit/core/reports';
import * as scheduler from '@crmkit/core/scheduler';
import * as scoring from '@crmkit/core/scoring';
import * as tasks from '@crmkit/core/tasks';
import * as testing from '@crmkit/core/testing';
import * as webhooks from '@crmkit/core/webhooks';
import * as indexeddb from '@crmkit/storage-indexeddb';
import * as sqlite from '@crmkit/storage-sqlite';
import * as sqlitePglite from '@crmkit/storage-sqlite/pglite';
import * as sync from '@crmkit/sync';
import * as syncServer from '@crmkit/sync/server';
import * as testPostgres from '@crmkit/test-support/postgres';
import * as standardwebhooks from 'standardwebhooks';
import type { ModuleMap } from '../src/run-doc.js';

const files = mkdtempSync(join(tmpdir(), 'crmkit-docs-'));

/** What the docs' imports resolve to in Node. The one change: a relative SQLite file name lands in a temporary directory. */
export const nodeModules: ModuleMap = {
  '@crmkit/core': core,
  '@crmkit/core/activities': activities,
  '@crmkit/core/access': access,
  '@crmkit/core/timeline': timeline,
  '@crmkit/core/assignment': assignment,
  '@crmkit/core/automations': automations,
  '@crmkit/core/csv': csv,
  '@crmkit/core/custom-fields': customFields,
  '@crmkit/core/describe': describe,
  '@crmkit/core/duplicates': duplicates,
  '@crmkit/core/merges': merges,
  '@crmkit/core/feed': feed,
  '@crmkit/core/imports': imports,
  '@crmkit/core/observe': observe,
  '@crmkit/core/phone': phone,
  '@crmkit/core/reports': reports,
  '@crmkit/core/scheduler': scheduler,
  '@crmkit/core/scoring': scoring,
  '@crmkit/core/tasks': tasks,
  '@crmkit/core/testing': testing,
  '@crmkit/core/webhooks': webhooks,
  '@crmkit/storage-indexeddb': indexeddb,
  '@crmkit/storage-sqlite': {
    ...sqlite,
    createSqliteStorage: (options: Parameters<typeof sqlite.createSqliteStorage>[0]) =>
      sqlite.createSqliteStorage(
        'filename' in options && options.filename && options.filename !== ':memory:' && !isAbsolute(options.filename) && !('database' in options && options.database)
          ? { ...options, filename: join(files, options.filename) } as Parameters<typeof sqlite.createSqliteStorage>[0]
          : options,
      ),
  },
  '@crmkit/storage-sqlite/pglite': sqlitePglite,
  '@crmkit/sync': sync,
  '@crmkit/sync/server': syncServer,
  '@electric-sql/pglite': pglite,
  '@crmkit/test-support/postgres': testPostgres,
  'fake-indexeddb/auto': {},
  standardwebhooks,
};

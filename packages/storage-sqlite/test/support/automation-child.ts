// A worker process of the automation fleet test: opens crmkit on a shared SQLite file or PostgreSQL
// schema and runs the automation rules' consumers until it is killed. Errors go to a log file (one
// line per write: a line survives a SIGKILL whole). Run bundled (see child-process.ts).
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCrm, type Logger, type StorageAdapter } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { createPostgresStorage, createSqliteStorage } from '../../src/index.js';

interface Open {
  cmd: 'open';
  engine: 'sqlite' | 'postgres';
  file?: string;
  url?: string;
  schema?: string;
  tenantId: string;
  logDir: string;
  leaseMs: number;
}

const log = (dir: string, name: string, line: string) => appendFileSync(join(dir, `${name}-${process.pid}.log`), `${line}\n`);

async function open(message: Open): Promise<unknown> {
  const storage: StorageAdapter =
    message.engine === 'sqlite'
      ? createSqliteStorage({ filename: message.file!, busyTimeoutMs: 20_000, changePollMs: 50 })
      : createPostgresStorage({ connectionString: message.url!, schema: message.schema!, maxConnections: 4 });
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (text, data) => log(message.logDir, 'warnings', `${text} ${JSON.stringify(data, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`),
    error: (text, data) => log(message.logDir, 'errors', `${text} ${JSON.stringify(data, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`),
  };
  const crm = await createCrm({
    storage,
    tenantId: message.tenantId,
    logger,
    features: [tasks(), events(), automations({ leaseMs: message.leaseMs, pollMs: 100, concurrency: 2, batchSize: 10, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000 }, maxAttempts: 10 })],
  });
  crm.automations.start();
  return { pid: process.pid };
}

process.on('message', (message: Open & { seq: number }) => {
  open(message).then(
    (result) => process.send!({ seq: message.seq, result }),
    (error: unknown) => process.send!({ seq: message.seq, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.send!({ seq: 0, result: 'ready' });

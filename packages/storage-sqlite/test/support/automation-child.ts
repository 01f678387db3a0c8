// A worker process of the automation fleet test: opens crmkit on a shared SQLite file or PostgreSQL
// schema and runs the automation rules' consumers until it is killed. Errors go to a log file (one
// line per write: a line survives a SIGKILL whole). Run bundled (see child-process.ts).
import { createCrm } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { childLogger, childStorage, type ChildOpen } from './child-open.js';

async function open(message: ChildOpen): Promise<unknown> {
  const storage = childStorage(message);
  const logger = childLogger(message.logDir);
  const crm = await createCrm({
    storage,
    tenantId: message.tenantId,
    logger,
    features: [tasks(), events(), automations({ leaseMs: message.leaseMs, pollMs: 100, concurrency: 2, batchSize: 10, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000 }, maxAttempts: 10 })],
  });
  crm.automations.start();
  return { pid: process.pid };
}

process.on('message', (message: ChildOpen & { seq: number }) => {
  open(message).then(
    (result) => process.send!({ seq: message.seq, result }),
    (error: unknown) => process.send!({ seq: message.seq, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.send!({ seq: 0, result: 'ready' });

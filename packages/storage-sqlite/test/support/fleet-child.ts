// A worker process of the fleet tests: opens crmkit on a shared SQLite file or PostgreSQL schema and
// runs a feed consumer, the scheduler or webhook delivery until it is killed. What it does is appended
// to log files (one per process, one line per write: a line survives a SIGKILL whole). Run with tsx.
import { createCrm } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { webhooks } from '@crmkit/core/webhooks';
import { childLog, childLogger, childStorage, type ChildOpen } from './child-open.js';

interface Open extends ChildOpen {
  role: 'consumer' | 'scheduler' | 'starter' | 'webhooks' | 'writer';
  /** Starter role (`scheduler.start()`): the task.due handler logs and then never returns, timed out only near the lease's end (a process dying mid-handler). */
  hang?: boolean;
  /** Starter role: the scheduler's `maxSleepMs`. */
  maxSleepMs?: number;
  /** Scheduler role: the notice types this process has handlers for (default reminder, due and overdue). */
  noticeTypes?: ('task.reminder' | 'task.due' | 'task.overdue')[];
}

/** For the writer role: creates or updates a contact, returns its id and version. */
interface Write {
  cmd: 'createContact' | 'updateContact';
  name: string;
  id?: string;
}

let writer: Awaited<ReturnType<typeof createCrm>> | undefined;

const log = childLog;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function open(message: Open): Promise<unknown> {
  const storage = childStorage(message);
  const logger = childLogger(message.logDir);
  const crm = await createCrm({
    storage,
    tenantId: message.tenantId,
    logger,
    features: [tasks(), events(), scheduler({ leaseMs: message.leaseMs, batchSize: 20, overdueAfterMinutes: 0, ...(message.maxSleepMs ? { maxSleepMs: message.maxSleepMs } : {}), ...(message.hang ? { noticeTimeoutMs: message.leaseMs - 100 } : {}) }), webhooks({ leaseMs: message.leaseMs, timeoutMs: 1000, concurrency: 2, pollMs: 100, backoff: { initialMs: 200, multiplier: 2, maxMs: 2000 } })],
  });
  if (message.role === 'consumer') {
    await crm.events.consume(
      'fleet',
      async (event, context) => {
        log(message.logDir, 'handled', `${event.id} ${context.lease} ${event.position} ${event.subjectId}`);
        await sleep(Math.random() * 3);
      },
      {
        partitions: 8,
        batchSize: 10,
        leaseMs: message.leaseMs,
        handlerTimeoutMs: Math.floor(message.leaseMs / 4),
        pollMs: 100,
        onPass: (report) => {
          if (report.handled.length) log(message.logDir, 'acked', `${report.lease} ${report.handled.join(',')}`);
        },
      },
    );
  }
  if (message.role === 'scheduler') {
    const types = message.noticeTypes ?? (['task.reminder', 'task.due', 'task.overdue'] as const);
    for (const type of types) crm.on(type, (event) => log(message.logDir, 'notices', `${event.data.key} ${event.id} ${types.join(',')}`));
    void (async () => {
      for (;;) {
        try {
          const started = Date.now();
          const report = await crm.scheduler.tick();
          log(message.logDir, 'ticks', JSON.stringify({ ...report, ms: Date.now() - started }));
        } catch (error) {
          log(message.logDir, 'tickerrors', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        }
        await sleep(20 + Math.random() * 30);
      }
    })();
  }
  if (message.role === 'starter') {
    crm.on('task.due', async (event) => {
      log(message.logDir, 'starter', `${process.pid} ${event.data.key}`);
      if (message.hang) await new Promise(() => undefined);
    });
    crm.scheduler.start();
  }
  if (message.role === 'webhooks') crm.webhooks.start();
  if (message.role === 'writer') writer = crm;
  return { pid: process.pid };
}

async function write(message: Write): Promise<unknown> {
  if (message.cmd === 'createContact') {
    const contact = await writer!.contacts.create({ name: message.name });
    return { id: contact.id, version: contact.version };
  }
  const current = await writer!.contacts.get(message.id!);
  const contact = await writer!.contacts.update(message.id!, { version: current.version, name: message.name });
  return { id: contact.id, version: contact.version };
}

process.on('message', (message: (Open | Write) & { seq: number }) => {
  (message.cmd === 'open' ? open(message) : write(message)).then(
    (result) => process.send!({ seq: message.seq, result }),
    (error: unknown) => process.send!({ seq: message.seq, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.send!({ seq: 0, result: 'ready' });

// A worker process of the four-doc-rules fleet test: opens crmkit with every feature the rules of
// docs/automation.md need, runs the rules' consumers (`automations.start()`) and a scheduler tick every
// 300 ms until it is killed. Its clock runs `offsetMs` ahead, so the 14-day time rule is due at once.
// Errors go to a log file (see child-open.ts). Run bundled (see child-process.ts).
import { createCrm, systemClock } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { activities } from '@crmkit/core/activities';
import { assignment } from '@crmkit/core/assignment';
import { scheduler } from '@crmkit/core/scheduler';
import { childLog, childLogger, childStorage, type ChildOpen } from './child-open.js';

async function open(message: ChildOpen & { offsetMs: number }): Promise<unknown> {
  const clock = { now: () => systemClock.now() + message.offsetMs, setTimer: (fn: () => void, ms: number) => systemClock.setTimer(fn, ms) };
  const crm = await createCrm({
    storage: childStorage(message), clock, tenantId: message.tenantId, logger: childLogger(message.logDir),
    features: [
      tasks(), activities(), assignment(), scheduler(), events(),
      automations({ messenger: 'external', leaseMs: message.leaseMs, pollMs: 100, concurrency: 2, batchSize: 10, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000 }, maxAttempts: 10 }),
    ],
  });
  crm.automations.start();
  const tick = (): void => void crm.scheduler.tick().catch((error: unknown) => childLog(message.logDir, 'errors', `tick ${String(error)}`)).finally(() => setTimeout(tick, 300));
  tick();
  return { pid: process.pid };
}

process.on('message', (message: ChildOpen & { offsetMs: number; seq: number }) => {
  open(message).then(
    (result) => process.send!({ seq: message.seq, result }),
    (error: unknown) => process.send!({ seq: message.seq, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.send!({ seq: 0, result: 'ready' });

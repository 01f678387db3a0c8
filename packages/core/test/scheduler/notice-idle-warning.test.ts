import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, type Logger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';

/** Notices reach handlers only in processes that tick: one with notice handlers that never ticks is told so, once. */
function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => undefined;
  return { warnings, logger: { debug: noop, info: noop, error: noop, warn: (message: string) => void warnings.push(message) } };
}

describe('a process with notice handlers that never ticks', () => {
  it('logs one warning after a minute; a process that ticks, or has no notice handler, logs none', async () => {
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const storage = createMemoryStorage();
    const web = recordingLogger();
    const worker = recordingLogger();
    const admin = recordingLogger();
    const boot = (logger: Logger) => createCrm({ storage, clock, tenantId: 't', closeStorage: false, logger, features: [tasks(), events(), scheduler()] });
    const webCrm = await boot(web.logger);
    const workerCrm = await boot(worker.logger);
    const adminCrm = await boot(admin.logger);
    webCrm.on('task.due', () => undefined); // never ticks: its handler would never be called
    workerCrm.on('task.due', () => undefined);
    await workerCrm.scheduler.tick();
    adminCrm.on('contact.created', () => undefined);
    for (let i = 0; i < 5; i++) clock.advance(60_000);
    expect(web.warnings.filter((w) => w.includes('never ticks'))).toHaveLength(1);
    expect(worker.warnings).toEqual([]);
    expect(admin.warnings).toEqual([]);
    await webCrm.close();
    await workerCrm.close();
    await adminCrm.close();
  });
});

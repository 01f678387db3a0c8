import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks as tasksFeature } from '@crmkit/core/tasks';
import { forkChild, type Child } from './support/child-process.js';
import { fleetEngines, logLines } from './support/fleet.js';
import { tempDir } from './support/temp-dir.js';

/**
 * Two processes running `scheduler.start()` (not tick loops) on one database: the one delivering a
 * notice is killed mid-handler, and the other delivers it within about two leases — not after
 * `maxSleepMs` — because a sleeping scheduler that saw a partition held elsewhere looks again after a lease.
 */

const LEASE_MS = 4000;
const MAX_SLEEP_MS = 120_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'startfleet');
afterAll(() => end());

const selected = engines.filter((e) => (process.env.CRMKIT_START_FLEET_ENGINES ?? 'sqlite,postgres').split(',').includes(e.name));

describe.each(selected)('scheduler.start() on two $name processes', { timeout: 180_000 }, (engine) => {
  it('a process killed mid-handler: the other delivers its notice within about two leases', async () => {
    const db = await engine.make();
    const logs = tempDir('crmkit-startfleet-logs-');
    cleanups.push(logs.cleanup);
    const crm = await createCrm({ storage: db.storage(), tenantId: 'fleet', logger: silentLogger, features: [tasksFeature(), events(), scheduler()] });
    cleanups.push(() => crm.close());
    await crm.scheduler.tick(); // the notice consumers exist before the processes start
    const start = async (hang: boolean): Promise<Child> => {
      const child = await forkChild('test/support/fleet-child.ts', { bundled: true });
      cleanups.push(() => child.kill('SIGKILL'));
      await child.request({ cmd: 'open', ...db.open, tenantId: 'fleet', logDir: logs.dir, role: 'starter', leaseMs: LEASE_MS, maxSleepMs: MAX_SLEEP_MS, hang });
      return child;
    };
    const deliveries = (key: string) => logLines(logs.dir, 'starter').filter((l) => l.includes(` ${key}:`)).map((l) => Number(l.split(' ')[0]));
    const waitFor = async (what: string, done: () => boolean, ms: number) => {
      for (const started = Date.now(); !done(); await sleep(50)) if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    };
    // The first process takes the notice and hangs in its handler (holding the partition's lease) …
    const hanging = await start(true);
    await sleep(500);
    const task = await crm.tasks.create({ subject: 'call', dueAt: new Date(Date.now() + 500).toISOString() });
    const key = `due:${task.id}`;
    await waitFor('the first delivery', () => deliveries(key).includes(hanging.pid!), 30_000);
    // … the second starts meanwhile: its first tick finds the partition held and goes to sleep …
    const healthy = await start(false);
    await sleep(300);
    // … and the holder dies.
    const killedAt = Date.now();
    hanging.kill('SIGKILL');
    await hanging.exited;
    await waitFor('the redelivery', () => deliveries(key).includes(healthy.pid!), 40_000);
    const measured = Date.now() - killedAt;
    // Within about two leases of the kill (the second process looked again one lease after it saw the partition held).
    expect(measured).toBeLessThan(2.5 * LEASE_MS);
    console.log(`[start fleet ${engine.name}] redelivered ${measured} ms after the kill (lease ${LEASE_MS} ms, maxSleepMs ${MAX_SLEEP_MS})`);
    expect(measured).toBeLessThan(MAX_SLEEP_MS / 4);
  });
});

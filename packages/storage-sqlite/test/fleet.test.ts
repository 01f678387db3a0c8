import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger, type Task } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks as tasksFeature } from '@crmkit/core/tasks';
import { webhooks } from '@crmkit/core/webhooks';
import { timeline } from '@crmkit/core/timeline';
import { startWebhookServer } from '../../core/test/webhooks/webhook-server.js';
import { fleetEngines, logLines, startFleet } from './support/fleet.js';
import { tempDir } from './support/temp-dir.js';

/**
 * Several app processes on one database, with kills: durable consumers, the scheduler fleet and
 * webhook delivery, on one SQLite file and on PostgreSQL. Each process appends what it did to its own
 * log files; the checks compare those logs with the database. Figures are printed (not asserted as
 * timings).
 */

const WORKERS = 4;
const KILLS = 4;
const LEASE_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'fleet');
afterAll(() => end());

/** Worker processes of one role (consumer, scheduler, webhooks) on the engine's database. */
const fleet = (open: Record<string, unknown>, role: string, logDir: string) =>
  startFleet({ script: 'test/support/fleet-child.ts', workers: WORKERS, open: { ...open, tenantId: 'fleet', logDir, role, leaseMs: LEASE_MS }, cleanups: () => cleanups });

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe.each(engines)('fleet of $name processes with kills', { timeout: 300_000 }, (engine) => {
  it('consumers: every event handled, none acknowledged twice, each record’s events in commit order', async () => {
    const db = await engine.make();
    const logs = tempDir('crmkit-fleet-logs-');
    cleanups.push(logs.cleanup);
    const crm = await createCrm({ storage: db.storage(), tenantId: 'fleet', logger: silentLogger, features: [events()] });
    cleanups.push(() => crm.close());
    const workers = await fleet(db.open, 'consumer', logs.dir);

    // Writes while workers consume and get killed.
    const contacts = [];
    for (let i = 0; i < 40; i++) {
      contacts.push(await crm.contacts.create({ name: `C${i}` }));
      if (i % 10 === 9 && workers.kills < KILLS) await workers.killOne();
    }
    for (let round = 0; round < 3; round++) {
      for (const [i, c] of contacts.entries()) {
        const current = await crm.contacts.get(c.id);
        await crm.contacts.update(c.id, { version: current.version, jobTitle: `R${round}` });
        if (i === 20 && workers.kills < KILLS) await workers.killOne();
      }
    }
    const head = await crm.events.head();
    await waitFor('the consumer to catch up', async () => {
      const status = await crm.events.status('fleet');
      return status.lag === 0 && status.pending === 0 ? status : undefined;
    });
    await workers.stop();

    const handled = logLines(logs.dir, 'handled').map((l) => l.split(' '));
    const acked = logLines(logs.dir, 'acked').map((l) => l.split(' '));
    const ackedLeases = new Set(acked.map(([lease]) => lease));
    const ackCount = new Map<string, number>();
    for (const [, ids] of acked) for (const id of ids!.split(',')) ackCount.set(id, (ackCount.get(id) ?? 0) + 1);
    const feed = await crm.events.read({ limit: 1000 });
    expect(feed.events).toHaveLength(head);
    const handledIds = new Set(handled.map(([id]) => id));
    const missing = feed.events.filter((e) => !handledIds.has(e.id));
    expect(missing).toEqual([]);
    expect([...ackCount.values()].filter((n) => n > 1)).toEqual([]);
    // The database's own count: acknowledged events over all partitions equals the number of events.
    const status = await crm.events.status('fleet');
    expect(status.handled).toBe(head);
    // Per record: the acknowledged handler calls of a subject came in position order (checked per pass
    // and across passes through the checkpoints: a lower position never follows a higher one in one lease).
    const byLease = new Map<string, Map<string, number[]>>();
    for (const [, lease, position, subject] of handled) {
      if (!ackedLeases.has(lease)) continue;
      const subjects = byLease.get(lease!) ?? byLease.set(lease!, new Map()).get(lease!)!;
      const list = subjects.get(subject!) ?? subjects.set(subject!, []).get(subject!)!;
      list.push(Number(position));
    }
    for (const subjects of byLease.values()) for (const positions of subjects.values()) expect(positions).toEqual([...positions].sort((a, b) => a - b));
    console.log(`[fleet ${engine.name}] consumers: ${head} events, ${handled.length} handler calls (${handled.length - head} repeated after ${workers.kills} kills), ${acked.length} passes acknowledged, 0 acknowledged twice`);
  });

  it('scheduler: N processes ticking at once never throw, every notice is recorded once and delivered', async () => {
    const db = await engine.make();
    const logs = tempDir('crmkit-fleet-logs-');
    cleanups.push(logs.cleanup);
    const crm = await createCrm({ storage: db.storage(), tenantId: 'fleet', logger: silentLogger, features: [tasksFeature(), events(), scheduler(), timeline()] });
    cleanups.push(() => crm.close());
    // Tasks due over the next seconds; each fires `due` and, 3 s later, `overdue`.
    const tasks: Task[] = [];
    const start = Date.now();
    for (let i = 0; i < 60; i++) tasks.push(await crm.tasks.create({ subject: `T${i}`, dueAt: new Date(start + 1000 + i * 80).toISOString() }));
    const workers = await fleet(db.open, 'scheduler', logs.dir);
    while (workers.kills < KILLS) {
      await sleep(700);
      await workers.killOne();
    }
    // overdueAfterMinutes 0 (whole minutes only): each task's due and overdue notices fire together.
    const lastNoticeAt = start + 1000 + 59 * 80;
    const expectedKeys = await waitFor('every notice to be recorded and delivered', async () => {
      if (Date.now() < lastNoticeAt + 500) return undefined;
      const notices = await crm.eventLog.list({ where: { op: 'in', field: 'type', values: ['task.due', 'task.overdue'] }, limit: 1000 });
      const statuses = await Promise.all(['task.due', 'task.overdue'].map((type) => crm.events.status(`crmkit.scheduler.notices:${type}`).catch(() => undefined)));
      const keys = notices.items.map((e) => (e.data as { key: string }).key);
      return keys.length === tasks.length * 2 && statuses.every((s) => s && s.lag === 0) ? keys : undefined;
    });
    await workers.stop();

    const delivered = logLines(logs.dir, 'notices').map((l) => l.split(' ')[0]!);
    const tickErrors = logLines(logs.dir, 'tickerrors');
    expect(tickErrors).toEqual([]);
    expect(new Set(expectedKeys).size).toBe(expectedKeys.length); // recorded once each
    expect([...new Set(delivered)].sort()).toEqual([...expectedKeys].sort()); // every one reached a handler
    const ticks = logLines(logs.dir, 'ticks').map((l) => JSON.parse(l) as { retried: number; ms: number });
    console.log(
      `[fleet ${engine.name}] scheduler: ${expectedKeys.length} notices generated, ${new Set(delivered).size} delivered, ` +
        `${delivered.length - new Set(delivered).size} delivered again after ${workers.kills} kills; ${ticks.length} ticks completed ` +
        `(median ${[...ticks].sort((a, b) => a.ms - b.ms)[ticks.length >> 1]?.ms ?? 0} ms), ${ticks.reduce((s, t) => s + t.retried, 0)} batches retried, 0 ticks threw`,
    );
  });

  it('scheduler: processes with different notice handlers — each notice reaches only processes that handle its type', async () => {
    const db = await engine.make();
    const logs = tempDir('crmkit-fleet-logs-');
    cleanups.push(logs.cleanup);
    const crm = await createCrm({ storage: db.storage(), tenantId: 'fleet', logger: silentLogger, features: [tasksFeature(), events(), scheduler(), timeline()] });
    cleanups.push(() => crm.close());
    const start = Date.now();
    for (let i = 0; i < 40; i++) await crm.tasks.create({ subject: `T${i}`, dueAt: new Date(start + 1000 + i * 80).toISOString() });
    // Half the workers handle due notices only, half overdue only; a killed worker's replacement has its handlers.
    const sets = [['task.due'], ['task.overdue']];
    const workers = await startFleet({
      script: 'test/support/fleet-child.ts',
      workers: WORKERS,
      open: (i) => ({ ...db.open, tenantId: 'fleet', logDir: logs.dir, role: 'scheduler', leaseMs: LEASE_MS, noticeTypes: sets[i % 2] }),
      cleanups: () => cleanups,
    });
    while (workers.kills < KILLS / 2) {
      await sleep(700);
      await workers.killOne();
    }
    const lastNoticeAt = start + 1000 + 39 * 80;
    const recorded = await waitFor('every notice to be recorded and delivered', async () => {
      if (Date.now() < lastNoticeAt + 500) return undefined;
      const notices = await crm.eventLog.list({ where: { op: 'in', field: 'type', values: ['task.due', 'task.overdue'] }, limit: 1000 });
      if (notices.items.length !== 80) return undefined;
      for (const type of ['task.due', 'task.overdue']) {
        const status = await crm.events.status(`crmkit.scheduler.notices:${type}`).catch(() => undefined);
        if (!status || status.lag > 0 || status.pending > 0) return undefined;
      }
      return notices.items.map((e) => (e.data as { key: string }).key);
    });
    await workers.stop();

    const lines = logLines(logs.dir, 'notices').map((l) => l.split(' '));
    const kindOf = (key: string) => (key.startsWith('due:') ? 'task.due' : 'task.overdue');
    expect(lines.filter(([key, , handles]) => !handles!.split(',').includes(kindOf(key!)))).toEqual([]); // never to a process without its handler
    expect([...new Set(lines.map(([key]) => key!))].sort()).toEqual([...recorded].sort()); // every one delivered
    for (const type of ['task.due', 'task.overdue']) expect((await crm.events.status(`crmkit.scheduler.notices:${type}`)).handled).toBe(40); // acknowledged once each
    expect(logLines(logs.dir, 'tickerrors')).toEqual([]);
    console.log(
      `[fleet ${engine.name}] scheduler, split handlers: ${recorded.length} notices generated, ${new Set(lines.map(([key]) => key)).size} delivered, ` +
        `${lines.length - new Set(lines.map(([key]) => key)).size} delivered again after ${workers.kills} kills, 0 to a process without a handler of the type`,
    );
  });

  it('webhooks: processes killed mid-delivery lose nothing and never send again what was acknowledged', async () => {
    const db = await engine.make();
    const logs = tempDir('crmkit-fleet-logs-');
    cleanups.push(logs.cleanup);
    let answered5xx = 0;
    const server = await startWebhookServer((_request, index) => {
      const fail = index % 11 === 5;
      if (fail) answered5xx++;
      return { status: fail ? 500 : 200, delayMs: 5 + (index % 7) * 10 };
    });
    cleanups.push(() => server.close());
    const crm = await createCrm({ storage: db.storage(), tenantId: 'fleet', logger: silentLogger, features: [events(), webhooks()] });
    cleanups.push(() => crm.close());
    const endpoint = await crm.webhooks.create({ url: server.url, types: ['contact.created', 'contact.updated'] });
    const workers = await fleet(db.open, 'webhooks', logs.dir);
    const ids: string[] = [];
    for (let i = 0; i < 80; i++) {
      const contact = await crm.contacts.create({ name: `W${i}` });
      ids.push(contact.id);
      if (i % 20 === 10 && workers.kills < KILLS) await workers.killOne();
    }
    await waitFor('every delivery', async () => {
      const status = await crm.webhooks.status(endpoint.id);
      return status.lag === 0 && status.pending === 0 ? status : undefined;
    });
    await workers.stop();

    const byEvent = new Map<string, number[]>();
    for (const r of server.received) {
      const id = r.headers['webhook-id']!;
      byEvent.set(id, [...(byEvent.get(id) ?? []), r.at]);
    }
    const feed = await crm.events.read({ types: ['contact.created'], limit: 1000 });
    expect(feed.events).toHaveLength(80);
    expect(feed.events.filter((e) => !byEvent.has(e.id))).toEqual([]); // nothing lost
    let log: Awaited<ReturnType<typeof crm.webhooks.deliveries>>['items'] = [];
    let cursor: string | undefined;
    do {
      const page = await crm.webhooks.deliveries(endpoint.id, { limit: 1000, ...(cursor ? { cursor } : {}) });
      log = log.concat(page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const succeeded = new Map<string, number[]>();
    for (const a of log) if (a.status === 'succeeded') succeeded.set(a.eventId, [...(succeeded.get(a.eventId) ?? []), Date.parse(a.at)]);
    expect([...succeeded.values()].filter((acks) => acks.length !== 1)).toEqual([]); // acknowledged exactly once
    for (const event of feed.events) {
      const ackAt = succeeded.get(event.id)![0]!;
      expect(byEvent.get(event.id)!.filter((at) => at > ackAt + 5)).toEqual([]); // never sent again after its acknowledgement
    }
    const receptions = server.received.length;
    console.log(
      `[fleet ${engine.name}] webhooks: ${feed.events.length} events, ${receptions} requests received (${answered5xx} answered 5xx and retried, ` +
        `${receptions - answered5xx - feed.events.length} re-sent unacknowledged after ${workers.kills} kills), each acknowledged once, none sent after its acknowledgement`,
    );
  });
});

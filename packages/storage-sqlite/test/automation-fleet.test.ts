import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger, where } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { fleetEngines, logLines, startFleet } from './support/fleet.js';
import { tempDir } from './support/temp-dir.js';

/**
 * Automation rules run by several processes on one database, with SIGKILLs mid-work, on SQLite and
 * PostgreSQL: every triggering event gets exactly one run, and the actions of a run happen exactly
 * once (one task per (rule, deal)), because the run-log row and the actions commit together.
 */

const WORKERS = 3;
const KILLS = 4;
const LEASE_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'auto-fleet');
afterAll(() => end());

describe.each(engines)('automation rules on a fleet of $name processes with kills', { timeout: 300_000 }, (engine) => {
  it('runs = triggering events; each run’s actions happened once', async () => {
    const db = await engine.make();
    const logs = tempDir('crmkit-auto-fleet-logs-');
    cleanups.push(logs.cleanup);
    const crm = await createCrm({ storage: db.storage(), tenantId: 'fleet', logger: silentLogger, features: [tasks(), events(), automations()] });
    cleanups.push(() => crm.close());
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }] });
    const created = await crm.automations.define({
      name: 'Qualify new deals',
      trigger: { type: 'event', event: 'deal.created' },
      actions: [{ type: 'createTask', task: { subject: 'Qualify', type: 'todo', due: { amount: 1, unit: 'days' } } }, { type: 'addTag', tag: 'seen' }],
    });
    await crm.automations.define({
      name: 'Call after proposal',
      trigger: { type: 'stageEntered', stage: 'proposal' },
      actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 2, unit: 'businessDays' } } }],
    });

    const workers = await startFleet({ script: 'test/support/automation-child.ts', workers: WORKERS, open: { ...db.open, tenantId: 'fleet', logDir: logs.dir, leaseMs: LEASE_MS }, cleanups: () => cleanups });

    const started = Date.now();
    const deals = [];
    for (let i = 0; i < 40; i++) {
      deals.push(await crm.deals.create({ title: `D${i}`, pipelineId: pipeline.id }));
      if (i % 2 === 1) await crm.deals.advance(deals[i - 1]!.id);
      if (i % 10 === 9 && workers.kills < KILLS) await workers.killOne();
      await sleep(10);
    }
    const expected = 40 + 20;
    let runs = 0;
    for (let waited = 0; ; waited += 200) {
      runs = (await crm.automations.runs({ limit: 1000 })).items.length;
      const status = await crm.events.status('crmkit.automations');
      const lag = status.lag + status.pending;
      if (runs >= expected && lag === 0) break;
      if (waited > 120_000) throw new Error(`timed out: ${runs} runs of ${expected}, lag ${lag}`);
      await sleep(200);
    }
    const ms = Date.now() - started;
    await workers.stop();

    const all = (await crm.automations.runs({ limit: 1000 })).items;
    expect(all.length).toBe(expected);
    expect(all.every((r) => r.status === 'done')).toBe(true);
    expect(new Set(all.map((r) => `${r.ruleId} ${r.triggerKey}`)).size).toBe(expected);
    const qualify = (await crm.tasks.list({ where: where.eq('subject', 'Qualify'), limit: 1000 })).items;
    const calls = (await crm.tasks.list({ where: where.eq('subject', 'Call'), limit: 1000 })).items;
    expect(qualify.map((t) => t.dealId).sort()).toEqual(deals.map((d) => d.id).sort());
    expect(calls.map((t) => t.dealId).sort()).toEqual(deals.filter((_, i) => i % 2 === 0).map((d) => d.id).sort());
    for (const deal of deals) expect((await crm.deals.get(deal.id)).tags).toEqual(['seen']);
    // The run log and the timelines agree: one `automation.ran` per run.
    const page = await crm.events.read({ after: 0, limit: 1000, types: ['automation.ran'] });
    expect(page.events.length).toBe(expected);
    expect((await crm.events.parked('crmkit.automations')).items).toEqual([]);
    expect((await crm.automations.runs({ ruleId: created.id, status: 'failed' })).items).toEqual([]);
    const errors = logLines(logs.dir, 'errors');
    console.log(`[automation fleet ${engine.name}] ${expected} triggering events → ${all.length} runs, ${qualify.length + calls.length} tasks, ${workers.kills} kills, ${errors.length} logged errors, caught up in ${ms} ms`);
  });
});

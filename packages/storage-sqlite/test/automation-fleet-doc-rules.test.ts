import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger, where } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { activities } from '@crmkit/core/activities';
import { assignment } from '@crmkit/core/assignment';
import { scheduler } from '@crmkit/core/scheduler';
import { fleetEngines, logLines, startFleet } from './support/fleet.js';
import { tempDir } from './support/temp-dir.js';

/**
 * The four rules quoted at the top of docs/automation.md — round-robin assignment and a welcome message,
 * a task on a stage entry, a time trigger (14 days in a stage without activity) and a condition on the
 * trigger's data (lost for price) — run by 3 worker processes (their consumers and scheduler ticks) on
 * one database, with SIGKILLs mid-work, on SQLite and PostgreSQL: runs = triggering events, and each
 * run's actions happened once. (Review 18h #3; automation-fleet.test.ts covers two event rules.)
 */

const WORKERS = 3;
const KILLS = 3;
const LEASE_MS = 1500;
/** The workers' clocks run this far ahead: the 14-day rule is due for every deal in negotiation. */
const AHEAD_MS = 15 * 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'doc-rules');
afterAll(() => end());

describe.each(engines)('the four rules of the docs on a fleet of $name processes with kills', { timeout: 120_000 }, (engine) => {
  it('runs = triggering events; each run’s actions happened once', async () => {
    const db = await engine.make();
    const logs = tempDir('crmkit-doc-rules-logs-');
    cleanups.push(logs.cleanup);
    const crm = await createCrm({ storage: db.storage(), tenantId: 'fleet', logger: silentLogger, features: [tasks(), activities(), assignment(), scheduler(), events(), automations({ messenger: 'external' })] });
    cleanups.push(() => crm.close());
    const sales = await crm.pipelines.create({
      name: 'Sales',
      stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'negotiation', name: 'Negotiation' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }],
    });
    const web = await crm.assignment.createStrategy({ name: 'Web leads', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }, { userId: 'ben' }] });
    const proposalRule = await crm.automations.define({
      name: 'Call after the proposal',
      trigger: { type: 'stageEntered', stage: 'proposal' },
      actions: [{ type: 'createTask', task: { subject: 'Call about the proposal', type: 'call', due: { amount: 2, unit: 'businessDays' }, assignee: { kind: 'dealOwner' } } }],
    });
    const webRule = await crm.automations.define({
      name: 'Web lead',
      trigger: { type: 'event', event: 'lead.created' },
      conditions: [{ field: 'source', op: 'eq', value: 'web-form' }],
      actions: [{ type: 'assignOwner', strategyId: web.id }, { type: 'sendMessage', channel: 'email', template: 'welcome' }],
    });
    const stuckRule = await crm.automations.define({
      name: 'Stuck in negotiation',
      trigger: { type: 'timeInStage', stage: 'negotiation', for: { amount: 14, unit: 'days' }, withoutActivity: true },
      actions: [{ type: 'createTask', task: { subject: 'Deal stuck in negotiation', type: 'todo', due: { amount: 0, unit: 'hours' }, assignee: { kind: 'user', userId: 'hana' } } }, { type: 'emit', name: 'dealStuck' }],
    });
    const priceRule = await crm.automations.define({
      name: 'Lost on price: follow up',
      trigger: { type: 'event', event: 'deal.lost' },
      conditions: [{ field: 'trigger.data.reason', op: 'eq', value: 'price' }],
      actions: [{ type: 'createTask', task: { subject: 'Follow up on price', type: 'call', due: { amount: 90, unit: 'days' } } }],
    });

    const workers = await startFleet({ script: 'test/support/automation-doc-rules-child.ts', workers: WORKERS, open: { ...db.open, tenantId: 'fleet', logDir: logs.dir, leaseMs: LEASE_MS, offsetMs: AHEAD_MS }, cleanups: () => cleanups });
    const started = Date.now();
    // Leads from the web form and from a fair (no run); deals to Proposal, on to Negotiation, lost for price or to a competitor (no run).
    const expected = { proposal: [] as string[], web: [] as string[], stuck: [] as string[], price: [] as string[] };
    for (let i = 0; i < 30; i++) {
      const lead = await crm.leads.create({ name: `L${i}`, source: i % 4 === 3 ? 'fair' : 'web-form' });
      if (i % 4 !== 3) expected.web.push(lead.id);
      const deal = await crm.deals.create({ title: `D${i}`, pipelineId: sales.id, ownerId: 'carl' });
      if (i % 3 !== 2) {
        await crm.deals.advance(deal.id);
        expected.proposal.push(deal.id);
      }
      if (i % 3 === 1) {
        await crm.deals.advance(deal.id);
        expected.stuck.push(deal.id);
      }
      if (i % 3 === 2) {
        await crm.deals.lose(deal.id, { reason: i % 2 ? 'price' : 'competitor' });
        if (i % 2) expected.price.push(deal.id);
      }
      if (i % 10 === 5 && workers.kills < KILLS) await workers.killOne();
      await sleep(20);
    }
    const triggering = expected.proposal.length + expected.web.length + expected.stuck.length + expected.price.length;
    for (let waited = 0; ; waited += 250) {
      const runs = (await crm.automations.runs({ limit: 1000 })).items.length;
      const status = await crm.events.status('crmkit.automations');
      if (runs >= triggering && status.lag + status.pending === 0) break;
      if (waited > 45_000) throw new Error(`timed out: ${runs} runs of ${triggering}, lag ${status.lag + status.pending}`);
      await sleep(250);
    }
    const ms = Date.now() - started;
    await sleep(1000); // ticks and consumers still running: a second run would show now
    await workers.stop();

    const all = (await crm.automations.runs({ limit: 1000 })).items;
    const subjects = (ruleId: string) => all.filter((r) => r.ruleId === ruleId).map((r) => r.subjectId).sort();
    expect(subjects(proposalRule.id)).toEqual([...expected.proposal].sort());
    expect(subjects(webRule.id)).toEqual([...expected.web].sort());
    expect(subjects(stuckRule.id)).toEqual([...expected.stuck].sort());
    expect(subjects(priceRule.id)).toEqual([...expected.price].sort());
    expect(all.filter((r) => r.status !== 'done')).toEqual([]);
    // One task per (rule, deal), one message per web lead, one `done` timeline entry per run.
    const taskDeals = async (subject: string) => (await crm.tasks.list({ where: where.eq('subject', subject), limit: 1000 })).items.map((t) => t.dealId).sort();
    expect(await taskDeals('Call about the proposal')).toEqual([...expected.proposal].sort());
    expect(await taskDeals('Deal stuck in negotiation')).toEqual([...expected.stuck].sort());
    expect(await taskDeals('Follow up on price')).toEqual([...expected.price].sort());
    const messages = (await crm.events.read({ after: 0, limit: 1000, types: ['automation.message'] })).events.map((e) => e.subjectId).sort();
    expect(messages).toEqual([...expected.web].sort());
    expect((await crm.events.read({ after: 0, limit: 1000, types: ['custom.dealStuck' as never] })).events.length).toBe(expected.stuck.length);
    // An attempt that lost a race for its deal (the test advancing it, another run's task moving its next
    // step) is on the timeline as failed with CONFLICT and retried; never a deadlock or any other error.
    const ran = (await crm.events.read({ after: 0, limit: 1000, types: ['automation.ran'] })).events.map((e) => e.data as { status: string; error?: { code?: string } });
    expect(ran.filter((r) => r.status === 'done').length).toBe(triggering);
    expect(ran.filter((r) => r.status !== 'done' && !(r.status === 'failed' && r.error?.code === 'CONFLICT'))).toEqual([]);
    // Round robin over two owners: an even split, whichever process assigned which lead.
    const owners = await Promise.all(expected.web.map(async (id) => (await crm.leads.get(id)).ownerId));
    expect([owners.filter((o) => o === 'anna').length, owners.filter((o) => o === 'ben').length].sort()).toEqual([Math.floor(expected.web.length / 2), Math.ceil(expected.web.length / 2)].sort());
    expect(workers.kills).toBe(KILLS);
    const errors = logLines(logs.dir, 'errors');
    expect(errors).toEqual([]);
    console.log(`[doc rules fleet ${engine.name}] ${triggering} triggering events → ${all.length} runs (${ran.length - triggering} attempts retried after a CONFLICT), ${workers.kills} kills, ${errors.length} logged errors, caught up in ${ms} ms`);
  });
});

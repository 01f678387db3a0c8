// Automation rules on SQLite (issue 18): a tenant with 50 rules and 10 000 events. Prints the
// overhead per event (draining the rules' consumers, against draining one no-op consumer of the same
// feed) and the end-to-end lag from a commit in one adapter (another process's connection) to the
// run of a rule in another (`automation.ran` emitted after the run committed).
//
//   pnpm --filter @crmkit/storage-sqlite bench:automation
//   … -- --events 10000 --rules 50 --json automation.json
//
// Figures are printed, not budgeted: the issue asks for them to be reported.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { automations, type AutomationRuleInput } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { imports } from '@crmkit/core/imports';
import { tasks } from '@crmkit/core/tasks';
import { createSqliteStorage } from '../src/index.js';
import { log, percentile, round } from './measure.js';

const TENANT = 'bench';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * `n` rules as a tenant has them: over deal creation, owner changes and stage entries, each with
 * conditions on the amount so that a few events in a thousand start each (about 1 000 runs in all
 * for 10 000 new deals).
 */
function rules(n: number): AutomationRuleInput[] {
  return Array.from({ length: n }, (_, k): AutomationRuleInput => {
    const trigger: AutomationRuleInput['trigger'] =
      k % 5 === 0 ? { type: 'stageEntered', stage: 'new' } : k % 5 === 1 ? { type: 'fieldChanged', entity: 'deal', field: 'ownerId' } : { type: 'event', event: 'deal.created' };
    const from = k * 2000;
    return {
      name: `Rule ${k}`,
      trigger,
      conditions: [{ field: 'value.amount', op: 'gte', value: from }, { field: 'value.amount', op: 'lt', value: from + 200 }],
      actions: [{ type: 'addTag', tag: `r${k}` }],
    };
  });
}

async function main(): Promise<void> {
  const total = Number(arg('events') ?? 10_000);
  const ruleCount = Number(arg('rules') ?? 50);
  const dir = mkdtempSync(join(tmpdir(), 'crmkit-automation-bench-'));
  const file = join(dir, 'automation.db');
  const storage = (): StorageAdapter => createSqliteStorage({ filename: file });
  try {
    const crm = await createCrm({ storage: storage(), tenantId: TENANT, logger: silentLogger, features: [tasks(), imports(), events(), automations({ batchSize: 500, concurrency: 1 })] });
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
    for (const rule of rules(ruleCount)) await crm.automations.define(rule);
    const baseline = await crm.events.consume('baseline', () => undefined, { start: false, from: 'now', partitions: 4, batchSize: 500 });
    log(`filling the feed with ${total} events (deal.created, amounts 0–100 000)`);
    for (let done = 0; done < total; ) {
      const batch = Math.min(1000, total - done);
      await crm.imports.deals(Array.from({ length: batch }, (_, i) => ({ title: `Deal ${done + i}`, pipelineId: pipeline.id, value: { amount: ((done + i) * 7919) % 100_000, currency: 'EUR' } })));
      done += batch;
    }

    let started = performance.now();
    await baseline.drain();
    const baselineMs = performance.now() - started;

    started = performance.now();
    let report = await crm.automations.drain();
    while (report.handled > 0) report = await crm.automations.drain();
    const rulesMs = performance.now() - started;
    let runs = 0;
    for (let cursor: string | undefined, first = true; first || cursor; first = false) {
      const page = await crm.automations.runs({ limit: 1000, ...(cursor ? { cursor } : {}) });
      runs += page.items.length;
      cursor = page.nextCursor;
    }
    await crm.close();

    // End-to-end lag: a writer commits through its own adapter; a worker with started automations runs the rule.
    const writer = await createCrm({ storage: storage(), tenantId: TENANT, logger: silentLogger, features: [imports()] });
    const worker = await createCrm({ storage: storage(), tenantId: TENANT, logger: silentLogger, features: [tasks(), events(), automations({ pollMs: 1000, concurrency: 4 })] });
    await worker.automations.define({ name: 'Lag probe', trigger: { type: 'event', event: 'contact.created' }, actions: [{ type: 'addTag', tag: 'probe' }] });
    const sent = new Map<string, number>();
    const lags: number[] = [];
    worker.on('*', (event) => {
      if (event.type !== ('automation.ran' as never)) return;
      const at = sent.get(event.subjectId);
      if (at !== undefined) lags.push(performance.now() - at);
    });
    worker.automations.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const samples = 200;
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      const contact = await writer.contacts.create({ name: `Lag ${i}` });
      sent.set(contact.id, t);
      await new Promise((resolve) => setTimeout(resolve, 20 + (i % 5) * 10));
    }
    const deadline = Date.now() + 30_000;
    while (lags.length < samples && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await worker.close();
    await writer.close();

    const entry = {
      engine: 'sqlite',
      rules: ruleCount,
      events: total,
      runs,
      rules_drain_ms: round(rulesMs, 0),
      overhead_per_event_ms: round(rulesMs / total, 3),
      overhead_per_event_and_rule_us: round((rulesMs / total / ruleCount) * 1000, 1),
      baseline_noop_consumer_ms: round(baselineMs, 0),
      baseline_per_event_ms: round(baselineMs / total, 3),
      lag_p50_ms: round(percentile(lags, 50), 1),
      lag_p95_ms: round(percentile(lags, 95), 1),
      lag_max_ms: round(Math.max(...lags), 1),
      lag_samples: lags.length,
    };
    log(JSON.stringify(entry));
    console.log(`| rules | events | runs | drain (ms) | per event (ms) | per event and rule (µs) | no-op consumer per event (ms) | lag p50 / p95 (ms) |`);
    console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
    console.log(`| ${ruleCount} | ${total} | ${runs} | ${entry.rules_drain_ms} | ${entry.overhead_per_event_ms} | ${entry.overhead_per_event_and_rule_us} | ${entry.baseline_per_event_ms} | ${entry.lag_p50_ms} / ${entry.lag_p95_ms} |`);
    const json = arg('json');
    if (json) writeFileSync(json, `${JSON.stringify(entry, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

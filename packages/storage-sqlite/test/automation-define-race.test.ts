import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger, type StorageAdapter } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { fleetEngines, type Cleanups } from './support/fleet.js';
import { slowWrites } from './support/slow-writes.js';

// Review 18g #1: a rule's `since` is taken under the feed's lock. It was read before it, so on PostgreSQL
// an event could commit above `since` before the rule did, and another process's rule cache — fresh up
// to that event, without the rule — lost its run for good.

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'defrace');
afterAll(() => end());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tagNew = { type: 'event', event: 'deal.created' } as const;

/** How each case turns the rule on for `deal.created` (slowly, on crm `a`), after `setup` on crm `b`. */
const cases = [
  { name: 'define', setup: async () => undefined, change: (a: Crm) => a.automations.define({ name: 'Tag new deals', trigger: tagNew, actions: [{ type: 'addTag', tag: 'new' }] }) },
  {
    name: 'enable',
    setup: (b: Crm) => b.automations.define({ name: 'Tag new deals', enabled: false, trigger: tagNew, actions: [{ type: 'addTag', tag: 'new' }] }),
    change: async (a: Crm, id?: string) => a.automations.enable(id!),
  },
  {
    name: 'a trigger edit',
    setup: (b: Crm) => b.automations.define({ name: 'Tag new deals', trigger: { type: 'event', event: 'deal.won' }, actions: [{ type: 'addTag', tag: 'new' }] }),
    change: async (a: Crm, id?: string) => a.automations.update(id!, { trigger: tagNew }),
  },
];
type Crm = Awaited<ReturnType<typeof open>>;
const open = async (storage: StorageAdapter) => {
  const crm = await createCrm({ storage, tenantId: 't', logger: silentLogger, features: [events(), automations()] });
  cleanups.push(() => crm.close());
  return crm;
};

describe.each(engines)('a rule turned on while an event commits, on $name', { timeout: 120_000 }, (engine) => {
  it.each(cases)('$name: the event above the rule’s since runs it, in the process whose cache was loaded first', async ({ setup, change }) => {
    const db = await engine.make();
    const a = await open(slowWrites(db.storage(), 'automationRule', 1500));
    const b = await open(db.storage());
    const pipeline = await b.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
    await b.automations.define({ name: 'Other', trigger: { type: 'event', event: 'lead.created' }, actions: [{ type: 'emit', name: 'x' }] });
    const existing = await setup(b);
    await b.automations.drain(); // b's rule cache is loaded (without the rule for deal.created)
    const changing = change(a, existing?.id);
    await sleep(300); // a's define is in its transaction, writing the rule
    const deal = await b.deals.create({ title: 'Race', pipelineId: pipeline.id });
    await b.automations.drain();
    const rule = await changing;
    await b.automations.drain();
    await a.automations.drain();
    const [created] = (await b.events.read({ after: 0, limit: 100, types: ['deal.created'] })).events;
    expect(created!.position!).toBeGreaterThan(rule.since);
    expect((await b.automations.runs({ ruleId: rule.id })).items.map((r) => [r.subjectId, r.status])).toEqual([[deal.id, 'done']]);
    expect((await b.deals.get(deal.id)).tags).toEqual(['new']);
  });
});

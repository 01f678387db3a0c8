import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createCrm, isCrmError, silentLogger, type CrmEvent } from '@crmkit/core';
import { createFakeClock } from '@crmkit/core/testing';
import { activities } from '@crmkit/core/activities';
import { automations, type AutomationRuleInput, type AutomationRun } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { timeline } from '@crmkit/core/timeline';
import { createMemoryStorage } from '@crmkit/core';
import { matchEvent, conditionsHold } from '../../src/automations/match-trigger.js';

/**
 * A model-based test: random rules (some chained, some closing a cycle) and random streams of funnel
 * work, consumed by two crm instances on one storage with rewinds of the rules' checkpoints (a crash
 * redelivers everything). The model says which (rule, event) pairs must run; the properties:
 * exactly one run-log row per pair and none else, no chain deeper than the limit acting, actions
 * happening once per run, and timeline entries matching the run log.
 */

const POOL: AutomationRuleInput[] = [
  { name: 'Tag new', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'new' }] },
  { name: 'Task on tags', trigger: { type: 'fieldChanged', entity: 'deal', field: 'tags' }, actions: [{ type: 'createTask', task: { subject: 'Look', type: 'todo', due: { amount: 1, unit: 'hours' } } }] },
  { name: 'Emit on task', trigger: { type: 'event', event: 'task.created' }, actions: [{ type: 'emit', name: 'taskMade' }] },
  { name: 'Note on proposal', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'logActivity', activity: { kind: 'note', body: 'Proposal' } }] },
  { name: 'Emit on activity', trigger: { type: 'event', event: 'activity.logged' }, actions: [{ type: 'emit', name: 'activity' }] },
  { name: 'Price follow-up', trigger: { type: 'event', event: 'deal.lost' }, conditions: [{ field: 'trigger.data.reason', op: 'eq', value: 'price' }], actions: [{ type: 'createTask', task: { subject: 'Follow up', type: 'call', due: { amount: 90, unit: 'days' } } }] },
  { name: 'Tag owner change', trigger: { type: 'fieldChanged', entity: 'deal', field: 'ownerId', to: 'ben' }, actions: [{ type: 'addTag', tag: 'ben' }] },
  { name: 'Self loop', trigger: { type: 'fieldChanged', entity: 'deal', field: 'tags' }, actions: [{ type: 'addTag', tag: 'again' }] },
  { name: 'Move on won-left', trigger: { type: 'stageLeft', stage: 'new' }, actions: [{ type: 'updateFields', set: { expectedCloseDate: '2026-03-01' } }] },
];

type Command =
  | { kind: 'define'; rule: number }
  | { kind: 'create'; owner: string }
  | { kind: 'advance'; deal: number }
  | { kind: 'owner'; deal: number; owner: string }
  | { kind: 'lose'; deal: number; reason: 'price' | 'timing' }
  | { kind: 'activity'; deal: number }
  | { kind: 'drain'; who: 'a' | 'b' | 'both' }
  | { kind: 'rewind' };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('define' as const), rule: fc.nat(POOL.length - 1) }),
  fc.record({ kind: fc.constant('create' as const), owner: fc.constantFrom('anna', 'ben') }),
  fc.record({ kind: fc.constant('advance' as const), deal: fc.nat(9) }),
  fc.record({ kind: fc.constant('owner' as const), deal: fc.nat(9), owner: fc.constantFrom('anna', 'ben', 'carl') }),
  fc.record({ kind: fc.constant('lose' as const), deal: fc.nat(9), reason: fc.constantFrom('price' as const, 'timing' as const) }),
  fc.record({ kind: fc.constant('activity' as const), deal: fc.nat(9) }),
  fc.record({ kind: fc.constant('drain' as const), who: fc.constantFrom('a' as const, 'b' as const, 'both' as const) }),
  fc.constant({ kind: 'rewind' as const }),
);

/**
 * Deterministic: a fixed seed (FC_SEED / FC_PATH replay another run), a seeded crm random, a fake
 * clock and memory storage. A run that hangs fails on fast-check's own timeout, well inside the test's,
 * so the seed and path are printed instead of the test runner killing the test silently (what happened
 * under load). Failures end without shrinking (FC_SHRINK=1 shrinks) so the report comes in time.
 */
const SEED = Number(process.env.FC_SEED ?? 18_2026);
const PATH = process.env.FC_PATH;

it('exactly one run per triggering (rule, event), no loops beyond the depth limit, timeline = run log', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 40 }), fc.integer({ min: 0, max: 3 }), async (commands, maxDepth) => {
      const storage = createMemoryStorage();
      const clock = createFakeClock();
      const make = (seed: number) =>
        createCrm({ storage, clock, tenantId: 't', logger: silentLogger, random: { seed }, closeStorage: false, features: [tasks(), activities(), events(), automations({ maxDepth, maxAttempts: 1, leaseMs: 3_600_000 }), timeline()] });
      const a = await make(1);
      const b = await make(2);
      const pipeline = await a.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
      const defined = new Map<string, { rule: Awaited<ReturnType<typeof a.automations.define>>; from: number }>();
      const deals: string[] = [];
      const starts = new Map<string, number>();
      const ignore = (error: unknown) => {
        if (!isCrmError(error)) throw error;
      };
      for (const c of commands) {
        const deal = deals.length ? deals[('deal' in c ? c.deal : 0) % deals.length]! : undefined;
        switch (c.kind) {
          case 'define': {
            const input = POOL[c.rule]!;
            if ([...defined.values()].some((d) => d.rule.name === input.name)) break;
            try {
              const head = await a.events.head();
              const rule = await a.automations.define(input);
              defined.set(rule.id, { rule, from: head });
            } catch (error) {
              expect(isCrmError(error, 'VALIDATION')).toBe(true); // a cycle with the rules defined so far
            }
            break;
          }
          case 'create':
            deals.push((await a.deals.create({ title: `D${deals.length}`, pipelineId: pipeline.id, ownerId: c.owner })).id);
            break;
          case 'advance':
            if (deal) await a.deals.advance(deal).catch(ignore);
            break;
          case 'owner':
            if (deal) await a.deals.update(deal, { ownerId: c.owner }).catch(ignore);
            break;
          case 'lose':
            if (deal) await a.deals.lose(deal, { reason: c.reason }).catch(ignore);
            break;
          case 'activity':
            if (deal) await a.activities.log({ kind: 'call', dealId: deal });
            break;
          case 'drain':
            if (c.who === 'both') await Promise.all([a.automations.drain(), b.automations.drain()]);
            else await (c.who === 'a' ? a : b).automations.drain();
            break;
          case 'rewind':
            // A crash before any checkpoint commit: the rules' feed consumer gets its events again.
            await storage.transaction('rw', async (tx) => {
              const { rows } = await tx.query('consumer', 't', { filter: { op: 'eq', field: 'group', value: 'automations' } });
              for (const row of rows) {
                if (!starts.has(row.id)) starts.set(row.id, Math.min(...[...defined.values()].map((d) => d.from), Number(row.position)));
                await tx.write('consumer', 't', [{ type: 'update', row: { ...row, position: starts.get(row.id)!, version: row.version + 1 }, expectedVersion: row.version }]);
              }
            });
            break;
        }
      }
      // Settle: drain until no run is added (chains need several rounds).
      for (let round = 0; round < 10; round++) {
        const [ra, rb] = await Promise.all([a.automations.drain(), b.automations.drain()]);
        if (ra.handled + rb.handled === 0) break;
      }

      const feed: readonly CrmEvent[] = (await a.events.read({ after: 0, limit: 1000 })).events;
      const runs: AutomationRun[] = (await a.automations.runs({ limit: 1000 })).items;
      // The model: every feed event after a rule was defined that its trigger and conditions accept.
      const expected = new Set<string>();
      for (const { rule, from } of defined.values()) {
        for (const event of feed) {
          if (event.position! <= from) continue;
          const facts = matchEvent(rule.trigger, event);
          if (facts && conditionsHold(rule, {}, facts)) expected.add(`${rule.id} ${event.id}`);
        }
      }
      expect(runs.map((r) => `${r.ruleId} ${r.triggerKey}`).sort()).toEqual([...expected].sort());
      // No loops beyond the limit: a run deeper than maxDepth, or in a chain that holds its rule, did nothing.
      for (const run of runs) {
        if (run.depth > maxDepth) expect([run.status, run.actions]).toEqual(['skipped', []]);
        else expect(run.status).toBe('done');
      }
      // Events of actions (not the run log's own entries, which say what was refused) stay within the limit.
      for (const event of feed.filter((e) => e.type !== ('automation.ran' as never))) {
        const cause = (event as CrmEvent & { cause?: { depth: number } }).cause;
        if (cause) expect(cause.depth).toBeLessThanOrEqual(maxDepth);
      }
      // Actions once per run: the tasks automation created are exactly those its runs report.
      const reported = runs.flatMap((r) => r.actions.filter((x) => x.type === 'createTask').map((x) => x.ref));
      const createdByAutomation = feed.filter((e) => e.type === 'task.created' && (e as CrmEvent & { cause?: unknown }).cause).map((e) => `task:${e.subjectId}`);
      expect(createdByAutomation.sort()).toEqual(reported.sort());
      // Timeline entries = run log.
      const ran = feed.filter((e) => e.type === ('automation.ran' as never));
      expect(ran.map((e) => (e.data as { runId: string }).runId).sort()).toEqual(runs.map((r) => r.id).sort());
      for (const run of runs.filter((r) => r.subjectType === 'deal').slice(0, 5)) {
        const timeline = await a.timeline({ type: run.subjectType as 'deal', id: run.subjectId }, { limit: 500 });
        expect(timeline.items.filter((e) => e.type === ('automation.ran' as never) && (e.data as { runId: string }).runId === run.id).length).toBe(1);
      }
      await a.close();
      await b.close();
    }),
    { numRuns: 40, seed: SEED, ...(PATH ? { path: PATH } : {}), timeout: 20_000, endOnFailure: !process.env.FC_SHRINK },
  );
}, 900_000);

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { setupAutomations } from './automation-setup.js';

/** The same instant spelled as ISO-8601 allows: stored form, no milliseconds (when it has none), an offset. */
function spellings(ms: number, offsetMinutes: number): string[] {
  const iso = new Date(ms).toISOString();
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return [iso, `${local}${offset}`, ...(ms % 1000 === 0 ? [iso.replace('.000Z', 'Z'), `${local.slice(0, 19)}${offset}`] : [])];
}

async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
    return [];
  } catch (error) {
    const e = error as { code: string; details?: { issues?: { path: (string | number)[]; message: string }[] } };
    expect(e.code).toBe('VALIDATION');
    return (e.details?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
  }
}

describe('times in rules are compared in stored form (review 18j #1)', () => {
  it('every accepted spelling of an instant fires a fieldChanged … to rule, equals and orders as the instant', async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.boolean(),
        fc.integer({ min: -14 * 4, max: 14 * 4 }).map((q) => q * 15),
        fc.nat(),
        async (raw, whole, offset, pick) => {
          const ms = whole ? raw - (raw % 1000) : raw;
          const names = spellings(ms, offset);
          const at = (k: number) => names[(pick + k) % names.length]!;
          round++;
          const hit = await crm.automations.define({
            name: `hit ${round}`,
            trigger: { type: 'fieldChanged', entity: 'task', field: 'dueAt', to: at(0) },
            conditions: [{ field: 'dueAt', op: 'eq', value: at(1) }, { field: 'dueAt', op: 'gte', value: at(2) }, { field: 'dueAt', op: 'lte', value: at(0) }, { field: 'dueAt', op: 'in', value: [at(3)] }],
            actions: [{ type: 'emit', name: 'hit' }],
          });
          // The stored rule holds the stored form, whatever the spelling.
          expect(hit.trigger).toMatchObject({ to: new Date(ms).toISOString() });
          const miss = await crm.automations.define({ name: `miss ${round}`, trigger: { type: 'fieldChanged', entity: 'task', field: 'dueAt' }, conditions: [{ field: 'trigger.to', op: 'gt', value: at(1) }], actions: [{ type: 'emit', name: 'miss' }] });
          const task = await crm.tasks.create({ subject: 's', type: 'call', dueAt: new Date(ms - 86_400_000).toISOString(), dealId: deal.id });
          await crm.tasks.update(task.id, { dueAt: at(3) });
          await crm.automations.drain();
          expect((await crm.automations.runs({ ruleId: hit.id })).items).toHaveLength(1);
          expect((await crm.automations.runs({ ruleId: miss.id })).items).toHaveLength(0);
          await crm.automations.disable(hit.id);
          await crm.automations.disable(miss.id);
        },
      ),
      { numRuns: 12 },
    );
    await crm.close();
  });

  it('an ordering bound with an offset orders as its instant; a bad time is refused at define (and in simulate)', async () => {
    const { crm } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z' });
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }] });
    // 10:00+02:00 is 08:00Z: a deal created at 09:00Z was created after it.
    const after = await crm.automations.define({ name: 'After', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'createdAt', op: 'gt', value: '2026-01-05T10:00:00+02:00' }], actions: [{ type: 'addTag', tag: 'after' }] });
    expect(after.conditions[0]!.value).toBe('2026-01-05T08:00:00.000Z');
    const d = await crm.deals.create({ title: 'A', pipelineId: p.id });
    await crm.automations.drain();
    expect((await crm.deals.get(d.id)).tags).toEqual(['after']);
    const created = (await crm.timeline({ type: 'deal', id: d.id })).items.find((e) => e.type === 'deal.created')!;
    expect((await crm.automations.simulate(after.id, created)).matched).toBe(true);

    const rule = (value: unknown, field = 'trigger.at', op = 'lt') => ({ name: 'Odd', trigger: { type: 'event' as const, event: 'deal.created' }, conditions: [{ field, op, value }], actions: [{ type: 'addTag' as const, tag: 'odd' }] });
    for (const [value, field, op] of [['2026-01-05T9'], ['2026-13-45'], ['2026-02-30', 'expectedCloseDate', 'eq'], ['2026-01-10T09:00:00', 'createdAt', 'gte'], ['2026-01-10', 'createdAt', 'eq'], ['2026-01-10T09:00:00Z', 'expectedCloseDate', 'lt']] as const) {
      const defined = await issuesOf(crm.automations.define(rule(value, field, op) as never));
      expect(defined, `${field} ${op} ${value}`).toEqual([expect.stringMatching(/^conditions\.0\.value: ".*" is (no time|no date|a day|an instant).*(2026-01-10T09:00:00\.000Z|YYYY-MM-DD)/)]);
      expect(await issuesOf(crm.automations.simulate(rule(value, field, op) as never, created))).toEqual(defined);
    }
    // A field trigger's from / to: an impossible instant, a day where an instant is stored.
    expect(await issuesOf(crm.automations.define({ name: 'x', trigger: { type: 'fieldChanged', entity: 'deal', field: 'expectedCloseDate', to: '2026-02-30' }, actions: [{ type: 'addTag', tag: 'x' }] }))).toEqual([expect.stringMatching(/^trigger\.to: "2026-02-30" is no time: give a day as YYYY-MM-DD/)]);
    expect(await issuesOf(crm.automations.define({ name: 'x', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'closedAt', op: 'in', value: ['2026-01-05T25:00:00Z'] }], actions: [{ type: 'addTag', tag: 'x' }] }))).toEqual([expect.stringMatching(/^conditions\.0\.value\.0: .* is no time/)]);
    // A day still bounds a time (from its start, UTC), and a date field keeps its days.
    await crm.automations.define(rule('2026-01-06') as never);
    await crm.automations.define(rule('2026-02-28', 'expectedCloseDate', 'eq') as never);
    expect(await crm.automations.list()).toHaveLength(3);
    await crm.close();
  });

  it('stage field rules hold their times in stored form too', async () => {
    const { crm } = await createTestCrm({ now: '2026-01-05T09:00:00.000Z' });
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer', entryRules: [{ type: 'field', field: 'createdAt', op: 'gt', value: '2026-01-05T10:00:00+02:00' }] }] });
    expect(p.stages[1]!.entryRules[0]).toMatchObject({ value: '2026-01-05T08:00:00.000Z' });
    const d = await crm.deals.create({ title: 'A', pipelineId: p.id });
    expect((await crm.deals.advance(d.id, { toStage: 'offer' })).stageKey).toBe('offer');
    await expect(crm.pipelines.addStage(p.id, { stage: { key: 'late', name: 'Late', entryRules: [{ type: 'field', field: 'createdAt', op: 'lt', value: '2026-01-05T9' }] } })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('is no time') });
    await expect(crm.pipelines.create({ name: 'B', stages: [{ key: 'new', name: 'New', exitRules: [{ type: 'field', field: 'expectedCloseDate', op: 'in', value: ['2026-01-10', '2026-13-45'] }] }] })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['stages', 0, 'exitRules', 0, 'value', 1] }] } });
    await crm.close();
  });

  it("event payload times (a postponement's from/to/until, notices' dueAt, rotting's since) are compared in stored form; impossible ones refused (review18k #1)", async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
    const hit = await crm.automations.define({
      name: 'postponed to',
      trigger: { type: 'event', event: 'task.postponed' },
      conditions: [{ field: 'trigger.data.to', op: 'eq', value: '2026-03-10T11:00:00+02:00' }],
      actions: [{ type: 'emit', name: 'hit' }],
    });
    expect(hit.conditions).toEqual([{ field: 'trigger.data.to', op: 'eq', value: '2026-03-10T09:00:00.000Z' }]);
    const task = await crm.tasks.create({ subject: 's', type: 'call', dueAt: '2026-03-09T09:00:00.000Z', dealId: deal.id });
    await crm.tasks.postpone(task.id, { until: '2026-03-10T09:00:00.000Z' });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: hit.id })).items).toHaveLength(1);
    const bad = (event: string, field: string, op: string, value: string) =>
      issuesOf(crm.automations.define({ name: 'bad', trigger: { type: 'event', event } as never, conditions: [{ field, op, value } as never], actions: [{ type: 'emit', name: 'x' }] }));
    expect(await bad('task.postponed', 'trigger.data.from', 'eq', '2026-02-30T10:00:00Z')).toEqual([expect.stringMatching(/^conditions\.0\.value: .*is no time/)]);
    expect(await bad('task.due', 'trigger.data.dueAt', 'eq', '2026-13-45T10:00:00Z')).toEqual([expect.stringMatching(/^conditions\.0\.value: .*is no time/)]);
    expect(await bad('deal.rotting', 'trigger.data.since', 'ne', '2026-02-30T10:00:00Z')).toEqual([expect.stringMatching(/^conditions\.0\.value: .*is no time/)]);
    expect(await bad('deal.postponed', 'trigger.data.until', 'in', '2026-01-05T9' as never)).not.toEqual([]);
    await crm.close();
  });
});

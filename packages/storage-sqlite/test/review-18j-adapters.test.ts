import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCrm } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { fleetEngines, type Cleanups } from './support/fleet.js';

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'rev18j');
afterAll(() => end());

// Review 18j #1 and #3 on SQLite and PostgreSQL (memory: test/automations/rule-time-values.test.ts, review-18j.test.ts).
describe.each(engines)('review 18j on $name', { timeout: 120_000 }, (engine) => {
  it('a time spelled with an offset fires as the stored instant; a bad one is refused; the partition refusal names what works', async () => {
    const db = await engine.make();
    const clock = createFakeClock('2026-01-05T09:00:00.000Z');
    const features = (partitions: number) => [tasks(), events(), automations({ partitions })] as const;
    const crm = await createCrm({ storage: db.storage(), clock, tenantId: 't', features: features(1) });
    cleanups.push(() => crm.close());
    const p = await crm.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }, { key: 'x', name: 'X', entryRules: [{ type: 'field', field: 'createdAt', op: 'gt', value: '2026-01-05T10:00:00+02:00' }] }] });
    expect(p.stages[1]!.entryRules[0]).toMatchObject({ value: '2026-01-05T08:00:00.000Z' });
    const rule = await crm.automations.define({ name: 'due', trigger: { type: 'fieldChanged', entity: 'task', field: 'dueAt', to: '2026-01-10T11:00:00+02:00' }, conditions: [{ field: 'dueAt', op: 'eq', value: '2026-01-10T09:00:00Z' }], actions: [{ type: 'emit', name: 'due' }] });
    const bad = await crm.automations.define({ name: 'bad', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'trigger.at', op: 'lt', value: '2026-01-05T9' }], actions: [{ type: 'emit', name: 'x' }] }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['conditions', 0, 'value'] }] } });
    const d = await crm.deals.create({ title: 'D', pipelineId: p.id });
    const t = await crm.tasks.create({ subject: 's', type: 'call', dueAt: '2026-01-09T09:00:00.000Z', dealId: d.id });
    await crm.tasks.update(t.id, { dueAt: '2026-01-10T09:00:00Z' });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items.map((r) => r.status)).toEqual(['done']);
    const refused = await createCrm({ storage: db.storage(), clock, tenantId: 't', features: features(4) }).then(() => undefined, (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining("crmkit's own consumers keep the count they were first created with: set the feature's partitions option to 1") });
  });
});

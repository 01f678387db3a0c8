import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { dealSchema } from '../../src/schema/deal.js';
import { leadSchema } from '../../src/schema/lead.js';
import { contactSchema } from '../../src/schema/contact.js';
import { companySchema } from '../../src/schema/company.js';
import { taskSchema } from '../../src/schema/task.js';
import { activitySchema } from '../../src/schema/activity.js';
import { setupAutomations } from './automation-setup.js';

// Review 18c #6: a fieldChanged rule is accepted only when some event can fire it, and from / to fit the field.
const emit = [{ type: 'emit' as const, name: 'x' }];
const STORED = { deal: dealSchema, lead: leadSchema, contact: contactSchema, company: companySchema, task: taskSchema, activity: activitySchema };
type Entity = keyof typeof STORED;

async function verdict(crm: Awaited<ReturnType<typeof setupAutomations>>['crm'], trigger: Record<string, unknown>) {
  try {
    await crm.automations.define({ name: `r${Math.random()}`, trigger: { type: 'fieldChanged', ...trigger } as never, actions: emit });
    return 'accepted';
  } catch (error) {
    if (!isCrmError(error) || error.code !== 'VALIDATION') throw error;
    return (error.details as unknown as { issues: { path: (string | number)[]; message: string }[] }).issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  }
}

describe('fieldChanged rules that could never fire are refused', () => {
  it('every stored field of every record type is either accepted (an update changes it) or refused naming the field, with a hint', async () => {
    const { crm } = await setupAutomations();
    const accepted: Record<string, string[]> = {};
    for (const entity of Object.keys(STORED) as Entity[]) {
      const fields = Object.keys((STORED[entity]() as unknown as { def: { shape: object } }).def.shape);
      for (const field of fields) {
        const v = await verdict(crm, { entity, field });
        if (v === 'accepted') (accepted[entity] ??= []).push(field);
        else expect(v).toMatch(new RegExp(`^trigger\\.field: (${entity} updates never change "${field}", so the rule would never fire: use .+|unknown ${entity} field "${field}")$`));
      }
    }
    expect(accepted).toEqual({
      deal: ['externalRefs', 'title', 'ownerId', 'contactId', 'companyId', 'value', 'lineItems', 'probability', 'probabilityManual', 'weightedValue', 'expectedCloseDate', 'expectedCloseMonth', 'country', 'source', 'tags', 'custom'].sort((a, b) => accepted.deal!.indexOf(a) - accepted.deal!.indexOf(b)),
      lead: expect.arrayContaining(['name', 'email', 'ownerId', 'tags', 'custom', 'expectedValue', 'probability']),
      contact: expect.arrayContaining(['name', 'email', 'companyId', 'ownerId', 'tags', 'custom']),
      company: expect.arrayContaining(['name', 'domain', 'ownerId', 'tags', 'custom']),
      task: expect.arrayContaining(['subject', 'dueAt', 'dueDate', 'ownerId', 'priority', 'notes', 'reminders', 'required', 'recurrence']),
    });
    for (const [entity, field] of <[string, string][]>[['deal', 'status'], ['deal', 'stageKey'], ['deal', 'closedAt'], ['deal', 'lastActivityAt'], ['deal', 'rottingSince'], ['deal', 'updatedAt'], ['deal', 'version'], ['deal', 'stageEnteredAt'], ['lead', 'status'], ['task', 'status'], ['task', 'completedAt'], ['task', 'deadlineAt'], ['activity', 'body'], ['task', 'custom.x']]) {
      expect(accepted[entity] ?? []).not.toContain(field);
      expect(await verdict(crm, { entity, field })).toMatch(/trigger\.field: .*(never fire|unknown)/);
    }
    expect(await verdict(crm, { entity: 'lead', field: 'status' })).toContain('lead.qualified');
    expect(await verdict(crm, { entity: 'task', field: 'completedAt' })).toContain('task.completed');
  });

  it('every accepted deal, lead and task field fires on the update that changes it', async () => {
    const { crm, pipeline } = await setupAutomations();
    const watched: [string, string][] = [['deal', 'title'], ['deal', 'probability'], ['deal', 'probabilityManual'], ['deal', 'weightedValue'], ['deal', 'weightedValue.amount'], ['deal', 'expectedCloseMonth'], ['deal', 'tags'], ['deal', 'value'], ['lead', 'probability'], ['lead', 'tags'], ['task', 'dueAt'], ['task', 'priority'], ['task', 'dueDate']];
    const ids = new Map<string, string>();
    for (const [entity, field] of watched) ids.set((await crm.automations.define({ name: `${entity}.${field}`, trigger: { type: 'fieldChanged', entity, field } as never, actions: emit })).id, `${entity}.${field}`);
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id, value: { amount: 100, currency: 'EUR' } });
    await crm.deals.update(deal.id, { title: 'B', probability: 55, tags: ['vip'], value: { amount: 300, currency: 'EUR' }, expectedCloseDate: '2026-09-01' });
    const lead = await crm.leads.create({ name: 'L', email: 'l@example.com' });
    await crm.leads.update(lead.id, { probability: 20, tags: ['x'] });
    const task = await crm.tasks.create({ subject: 't', dueAt: '2026-02-10T09:00:00.000Z' });
    await crm.tasks.update(task.id, { priority: 'high', allDay: true, dueDate: '2026-02-12' });
    await crm.automations.drain();
    const fired = new Set((await crm.automations.runs({ limit: 100 })).items.filter((r) => r.status === 'done').map((r) => ids.get(r.ruleId)));
    expect([...ids.values()].filter((name) => !fired.has(name))).toEqual([]);
  });

  it('a task due time changed by postponing fires a dueAt rule, with from / to', async () => {
    const { crm } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'moved', trigger: { type: 'fieldChanged', entity: 'task', field: 'dueAt', to: '2026-02-12T09:00:00.000Z' }, conditions: [{ field: 'trigger.type', op: 'eq', value: 'task.postponed' }, { field: 'trigger.from', op: 'eq', value: '2026-02-11T09:00:00.000Z' }], actions: emit });
    const task = await crm.tasks.create({ subject: 't', dueAt: '2026-02-10T09:00:00.000Z' });
    await crm.tasks.postpone(task.id, { until: '2026-02-11T09:00:00.000Z' });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: rule.id })).items).toEqual([]);
    await crm.tasks.postpone(task.id, { until: '2026-02-12T09:00:00.000Z' });
    await crm.automations.drain();
    const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
    expect(runs.map((r) => [r.status, r.subjectId])).toEqual([['done', task.id]]);
  });

  it('from / to must be a value the field can hold, and lists and objects are compared by conditions', async () => {
    const { crm } = await setupAutomations();
    await crm.customFields.define({ entity: 'deal', key: 'segment', label: 'Segment', type: 'text' });
    expect(await verdict(crm, { entity: 'deal', field: 'tags', to: 'vip' })).toBe('trigger.to: "tags" is a list: from / to compare one value (use a condition on trigger.to, or watch a part such as value.amount)');
    expect(await verdict(crm, { entity: 'deal', field: 'value', to: 500 })).toMatch(/^trigger\.to: "value" is an object/);
    expect(await verdict(crm, { entity: 'deal', field: 'lineItems', from: 'x' })).toMatch(/^trigger\.from: "lineItems" is a list/);
    expect(await verdict(crm, { entity: 'deal', field: 'custom', to: 'x' })).toMatch(/^trigger\.to: "custom" is an object/);
    expect(await verdict(crm, { entity: 'deal', field: 'title', to: 500 })).toBe('trigger.to: 500 is no value "title" can hold, so the rule would never fire');
    expect(await verdict(crm, { entity: 'deal', field: 'probability', to: 150 })).toMatch(/^trigger\.to: 150 is no value/);
    expect(await verdict(crm, { entity: 'task', field: 'priority', from: 'asap' })).toMatch(/^trigger\.from: "asap" is no value/);
    expect(await verdict(crm, { entity: 'task', field: 'recurrence', to: 'FREQ=DAILY' })).toMatch(/^trigger\.to: "recurrence" is an object/);
    // Values the field holds, a cleared field (null) and custom fields (typed by the tenant) pass.
    for (const t of [{ field: 'value.amount', to: 500 }, { field: 'title', to: '500' }, { field: 'ownerId', from: null }, { field: 'custom.segment', to: 'smb' }, { field: 'expectedCloseDate', to: '2026-03-01' }]) expect(await verdict(crm, { entity: 'deal', ...t })).toBe('accepted');
  });
});

import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { REVEALS, revealSources } from '../../src/access/access-model.js';

// Every derived field and the fields it is derived from: hiding any source must hide the field.
const DERIVED: Record<string, Record<string, readonly string[]>> = {
  deal: {
    weightedValue: ['value', 'probability', 'stageKey', 'status'],
    lineItems: ['value'],
    probability: ['stageKey', 'status'],
    probabilityManual: ['probability', 'stageKey', 'status'],
    expectedCloseMonth: ['expectedCloseDate'],
    lostComment: ['lostReason', 'status'],
    lostReason: ['status'],
    cycleMs: ['closedAt', 'status'],
    closedAt: ['status'],
    closedFromStage: ['stageKey', 'status'],
    stageKey: ['status'],
    rottingSince: ['lastActivityAt', 'stageEnteredAt', 'stageKey', 'status'],
    shareKeys: ['shares'],
    externalKeys: ['externalRefs'],
  },
  lead: {
    searchKeys: ['name', 'email', 'phone', 'companyName', 'website'],
    qualifiedAt: ['status'],
    disqualifiedAt: ['status'],
    disqualifyReason: ['status'],
    convertedAt: ['status'],
    converted: ['status'],
    shareKeys: ['shares'],
    externalKeys: ['externalRefs'],
  },
  contact: { searchKeys: ['name', 'email', 'phone'], shareKeys: ['shares'], externalKeys: ['externalRefs'] },
  company: { searchKeys: ['name', 'domain', 'website', 'phone'], shareKeys: ['shares'], externalKeys: ['externalRefs'] },
  task: {
    deadlineAt: ['dueAt', 'dueDate', 'timezone'],
    dueDate: ['dueAt'],
    nextNotifyAt: ['dueAt', 'reminders'],
    recurrence: ['dueAt', 'timezone', 'reminders', 'subject', 'type', 'ownerId', 'priority', 'durationMinutes', 'notes'],
    completedAt: ['status'],
    cancelledAt: ['status'],
    outcome: ['status'],
    externalKeys: ['externalRefs'],
  },
  activity: { externalKeys: ['externalRefs'], participantContactIds: ['participants'] },
};

const CASES = Object.entries(DERIVED).flatMap(([entity, fields]) =>
  Object.entries(fields).flatMap(([field, sources]) => sources.map((source) => [entity, field, source] as const)),
);

const SERVICE: Record<string, string> = { deal: 'deals', lead: 'leads', contact: 'contacts', company: 'companies', task: 'tasks', activity: 'activities' };

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: unknown) => (isCrmError(e) ? e.code : 'thrown'),
  );
}

describe('derived fields follow their sources', () => {
  it('the table covers exactly the reveal rules', () => {
    for (const [entity, fields] of Object.entries(DERIVED)) {
      const sources = revealSources(entity);
      expect(new Set(sources.keys())).toEqual(new Set(Object.keys(fields)));
      for (const [field, expected] of Object.entries(fields)) expect([...sources.get(field)!].sort()).toEqual([...expected].sort());
    }
    expect(Object.keys(REVEALS).sort()).toEqual(Object.keys(DERIVED).sort());
  });

  it.each(CASES)('%s.%s is hidden with %s', async (entity, field, source) => {
    const { crm } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New', rottenDays: 1 }, { key: 'b', name: 'B', probability: 40 }] });
    const all = { read: 'all' as const };
    await crm.access.setPolicy({
      roles: {
        viewer: {
          grants: { deal: all, lead: all, contact: all, company: all, task: all, activity: all, pipeline: all },
          fields: { [entity]: { read: { deny: [source] } } },
        },
      },
      defaultRoles: ['viewer'],
    });
    await crm.access.setDirectory({ teams: [], users: [{ id: 'anna' }, { id: 'x' }] });
    const ref = [{ system: 'shop', id: '1' }];
    const d = await crm.deals.create({ title: 'd', ownerId: 'anna', pipelineId: p.id, value: { amount: 100, currency: 'EUR' }, expectedCloseDate: '2026-03-01', externalRefs: ref });
    await crm.access.share({ type: 'deal', id: d.id }, { userId: 'anna', access: 'read' });
    await crm.deals.lose(d.id, { reason: 'price', comment: 'too dear' });
    const lead = await crm.leads.create({ name: 'Ada', email: 'ada@example.com', ownerId: 'anna', externalRefs: ref });
    await crm.leads.disqualify(lead.id, { reason: 'spam' });
    const ada = await crm.contacts.create({ name: 'Ada', email: 'ada@example.com', ownerId: 'anna', externalRefs: ref });
    await crm.companies.create({ name: 'Acme', domain: 'acme.com', ownerId: 'anna', externalRefs: ref });
    const t = await crm.tasks.create({ subject: 'Call', allDay: true, dueDate: '2026-06-10', ownerId: 'anna', externalRefs: ref, reminders: [60], recurrence: 'FREQ=WEEKLY;COUNT=3' } as never);
    await crm.tasks.complete(t.id, { outcome: 'done' });
    await crm.activities.log({ kind: 'note', subject: 'n', ownerId: 'anna', externalRefs: ref, participants: [{ contactId: ada.id }] } as never);

    const system = (crm as unknown as Record<string, { list(o?: unknown): Promise<{ items: Record<string, unknown>[] }> }>)[SERVICE[entity]!]!;
    const seen = (crm.as({ userId: 'x' }) as unknown as Record<string, typeof system>)[SERVICE[entity]!]!;
    // Explicit order: a task list sorts by `dueAt` unless told otherwise.
    const byCreation = { orderBy: [{ field: 'createdAt' }] };
    const stored = (await system.list(byCreation)).items;
    const shown = (await seen.list(byCreation)).items;
    expect(shown.length).toBe(stored.length);
    for (const row of shown) expect(row).not.toHaveProperty(field);
    // Filtering and sorting by it are refused wherever the system crm may do them.
    const filter = { where: { op: 'eq', field, value: null } };
    if ((await codeOf(system.list(filter))) === 'ok') expect(await codeOf(seen.list(filter))).toBe('FORBIDDEN');
    const sort = { orderBy: [{ field }] };
    if ((await codeOf(system.list(sort))) === 'ok') expect(await codeOf(seen.list(sort))).toBe('FORBIDDEN');
    if (entity === 'deal') {
      const agg = { groupBy: [field], metrics: { n: { fn: 'count' as const } } };
      if ((await codeOf(crm.deals.aggregate(agg as never))) === 'ok') expect(await codeOf(crm.as({ userId: 'x' }).deals.aggregate(agg as never))).toBe('FORBIDDEN');
    }
  });
});

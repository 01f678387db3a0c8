import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

// Tasks, activities and stage visits carry their parent deal's owner and shares for access checks;
// a view must not see them (they named the owner and share list of a deal the reader cannot read).
it("a view's tasks, agenda and activities leave out the parent deal's owner and shares", async () => {
  const { crm } = await createTestCrm();
  await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
  await crm.access.setPolicy({
    roles: { rep: { grants: { deal: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' } } } },
    defaultRoles: ['rep'],
  });
  await crm.access.setDirectory({ teams: [], users: [{ id: 'anna' }, { id: 'ben' }, { id: 'carl' }] });
  const hidden = await crm.deals.create({ title: 'Carl only', ownerId: 'carl' });
  await crm.access.share({ type: 'deal', id: hidden.id }, { userId: 'ben', access: 'read' });
  const task = await crm.tasks.create({ subject: 'mine', dueAt: '2026-01-06T10:00:00.000Z', dealId: hidden.id, ownerId: 'anna' });
  expect(task).toHaveProperty('parentOwner'); // the trusted crm sees its bookkeeping

  const anna = crm.as({ userId: 'anna' });
  const seen = [await anna.tasks.get(task.id), ...(await anna.tasks.list()).items];
  const agenda = await anna.tasks.agenda({});
  seen.push(...agenda.overdue, ...agenda.today, ...agenda.upcoming);
  expect(seen.length).toBeGreaterThanOrEqual(2);
  for (const t of seen) {
    expect(t).not.toHaveProperty('parentOwner');
    expect(t).not.toHaveProperty('parentShareKeys');
  }
  expect(JSON.stringify(seen)).not.toContain('carl');
});

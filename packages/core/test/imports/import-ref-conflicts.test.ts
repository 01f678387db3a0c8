import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

it('a row whose external ref another record holds fails at externalRefs.<system>, not the stored index (review 16g minor)', async () => {
  const { crm } = await createTestCrm();
  const c = await crm.contacts.create({ name: 'Ada', email: 'a@x.org' });
  const rows = [{ K: 'call', T: 'c1', C: c.id }, { K: 'call', T: 'c2', C: c.id }];
  const mapping = { kind: 'K', 'externalRefs.tel': 'T', contactId: 'C' };
  const first = await crm.import.run({ entity: 'activity', rows, mapping });
  expect(first.counts.created).toBe(2);
  const again = await crm.import.run({ entity: 'activity', rows, mapping });
  expect(again.rows.map((r) => [r.outcome, r.error, r.issues?.[0]?.path])).toEqual([
    ['failed', 'CONFLICT', ['externalRefs', 'tel']],
    ['failed', 'CONFLICT', ['externalRefs', 'tel']],
  ]);
  expect(again.rows[0]!.issues![0]!.message).toBe(`external ref tel:c1 is already taken by activity ${first.rows[0]!.id}`);
  expect(JSON.stringify(again.rows)).not.toContain('externalKeys');
  expect((await crm.activities.list()).items).toHaveLength(2);
});

import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

const refs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ system: 'shop', id: `${prefix}${i}` }));
const tooBig = { path: ['externalRefs'], code: 'too_big' };

/** No path that adds refs to a record lets it hold more than the API's 20 (review 16g #4). */
describe('a record never grows past 20 external refs', () => {
  for (const mode of ['update', 'upsert'] as const) {
    it(`an import ${mode} adding a ref to a record with 20 fails the row at externalRefs, writing nothing`, async () => {
      const { crm } = await createTestCrm();
      const full = await crm.contacts.create({ name: 'Ada', email: 'ada@x.org', externalRefs: refs('a', 20) });
      const roomy = await crm.contacts.create({ name: 'Bob', email: 'bob@x.org', externalRefs: refs('b', 19) });
      const report = await crm.import.run({ entity: 'contact', mode, key: 'email', mapping: { name: 'N', email: 'E', 'externalRefs.erp': 'S' }, rows: [{ N: 'Ada', E: 'ada@x.org', S: 'e1' }, { N: 'Bob', E: 'bob@x.org', S: 'e2' }] });
      expect(report.rows[0]).toMatchObject({ outcome: 'failed', error: 'VALIDATION', issues: [tooBig] });
      expect(report.rows[1]).toMatchObject({ outcome: 'updated', id: roomy.id });
      expect(await crm.contacts.get(full.id)).toMatchObject({ version: full.version, externalRefs: refs('a', 20) });
      expect((await crm.contacts.get(roomy.id)).externalRefs).toHaveLength(20);
      // A ref the record already holds adds nothing: the row is unchanged, not refused.
      const again = await crm.import.run({ entity: 'contact', mode, key: 'email', mapping: { name: 'N', email: 'E', 'externalRefs.shop': 'S' }, rows: [{ N: 'Ada', E: 'ada@x.org', S: 'a3' }] });
      expect(again.rows[0]).toMatchObject({ outcome: 'skipped', reason: 'unchanged' });
    });
  }

  it('duplicates: update adding a ref to a match with 20 fails the row at externalRefs', async () => {
    const { crm } = await createTestCrm();
    const full = await crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@x.org', externalRefs: refs('a', 20) });
    const report = await crm.import.run({ entity: 'contact', mapping: { name: 'N', email: 'E', 'externalRefs.erp': 'S' }, rows: [{ N: 'Ada Lovelace', E: 'ada@x.org', S: 'e1' }], duplicates: { action: 'update' } });
    expect(report.rows[0]).toMatchObject({ outcome: 'failed', error: 'VALIDATION', issues: [tooBig] });
    expect(await crm.contacts.get(full.id)).toMatchObject({ version: full.version, externalRefs: refs('a', 20) });
  });

  it('upsertByExternalRef refuses a create whose refs and key would be 21', async () => {
    const { crm } = await createTestCrm();
    await expect(crm.contacts.upsertByExternalRef('erp', 'e1', { name: 'A', externalRefs: refs('a', 20) })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [tooBig] } });
    expect((await crm.contacts.list()).items).toHaveLength(0);
    // With the key among the 20 it is fine.
    const ok = await crm.contacts.upsertByExternalRef('shop', 'a0', { name: 'A', externalRefs: refs('a', 20) });
    expect(ok.record.externalRefs).toHaveLength(20);
    await expect(crm.contacts.upsertByExternalRef('erp', 'e1', { name: 'A', externalRefs: refs('a', 20) })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [tooBig] } });
  });

  it('a merge that would hold more than 20 refs is refused', async () => {
    const { crm } = await createTestCrm();
    const a = await crm.contacts.create({ name: 'Ada', externalRefs: refs('a', 15) });
    const b = await crm.contacts.create({ name: 'Ada L', externalRefs: refs('b', 10) });
    await expect(crm.merges.contacts(a.id, [b.id])).rejects.toMatchObject({ code: 'RULE_VIOLATION' });
    expect((await crm.contacts.get(a.id)).externalRefs).toHaveLength(15);
  });
});

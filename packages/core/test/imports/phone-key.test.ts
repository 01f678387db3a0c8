import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, CrmError } from '@crmkit/core';
import { imports } from '@crmkit/core/imports';
import { phoneNumbers } from '@crmkit/core/phone';
import { createTestCrm } from '@crmkit/core/testing';

/** An import keyed by phone reads numbers as the duplicate finder does (review16h #5). */
describe('import keyed by phone', () => {
  it('national spellings in the default region and in a record\'s own country are one key', async () => {
    const { crm } = await createTestCrm({ phoneNumbers });
    await crm.identity.set({ defaultRegion: 'US' });
    const ada = await crm.contacts.create({ name: 'Ada', phone: '+1 415 555 2671' });
    const london = await crm.contacts.create({ name: 'Grace', phone: '020 7946 0958', country: 'GB' });
    const report = await crm.import.run({
      entity: 'contact',
      mode: 'upsert',
      key: 'phone',
      rows: [
        { name: 'Ada Lovelace', phone: '(415) 555-2671' },
        { name: 'Ada again', phone: '415.555.2671' },
        { name: 'Grace Hopper', phone: '+44 20 7946 0958' },
        // Read in the row's own country: the same London number.
        { name: 'Grace again', phone: '020 7946 0958', country: 'GB' },
      ],
    });
    expect(report.rows.map((r) => [r.outcome, r.issues?.[0]?.code ?? r.id])).toEqual([['updated', ada.id], ['failed', 'duplicate_key'], ['updated', london.id], ['failed', 'duplicate_key']]);
    expect((await crm.contacts.list({ limit: 100 })).items).toHaveLength(2);
  });

  it('a number with no identity (national, without numbering plans) compares as written, trimmed', async () => {
    const { crm } = await createTestCrm();
    const report = await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'phone', mapping: { name: 'n', phone: 'p' }, rows: [{ n: 'A', p: '555 2671' }, { n: 'B', p: ' 555 2671 ' }, { n: 'C', p: '555-2671' }] });
    expect(report.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['created', undefined], ['failed', 'duplicate_key'], ['created', undefined]]);
  });

  it('is refused without the duplicates feature, which indexes numbers by identity: VALIDATION at key, nothing written', async () => {
    const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', features: [imports()] });
    const error = await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'phone', rows: [{ name: 'A', phone: '+14155552671' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect((error as CrmError).details).toMatchObject({ issues: [{ path: ['key'], code: 'feature_required' }] });
    expect((await crm.contacts.list()).items).toEqual([]);
    // Keys such as e-mail still work without it.
    expect((await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'email', rows: [{ name: 'A', email: 'a@x.org' }] })).counts.created).toBe(1);
  });
});

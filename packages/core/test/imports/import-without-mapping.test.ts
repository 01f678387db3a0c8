import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';

type Storage = Awaited<ReturnType<typeof createTestCrm>>['storage'];
const stored = (storage: Storage, entity: string) => storage.transaction('r', async (tx) => (await tx.query(entity, 'test', { limit: 100 })).rows);
const refused = (run: Promise<unknown>) => run.then(() => undefined, (e: unknown) => e);

// Review 16e item 9: without a mapping, columns are field paths, as ImportRunOptions.mapping says.
describe('import without a mapping: columns are field paths', () => {
  it('reads custom.<key> of a defined custom field (as its type) and externalRefs.<system> from a CSV header', async () => {
    const { crm } = await createTestCrm();
    await crm.customFields.define({ entity: 'contact', key: 'vatId', label: 'VAT', type: 'text' });
    await crm.customFields.define({ entity: 'contact', key: 'seats', label: 'Seats', type: 'number' });
    const report = await crm.import.run({ entity: 'contact', csv: csvSource('name,email,custom.vatId,custom.seats,externalRefs.shop,tags\r\nAda,ada@x.org,DE123,12,S1,"vip,b2b"\r\n') });
    expect(report.rows.map((r) => r.outcome)).toEqual(['created']);
    const ada = await crm.contacts.get(report.rows[0]!.id!);
    expect(ada).toMatchObject({ name: 'Ada', email: 'ada@x.org', custom: { vatId: 'DE123', seats: 12 }, externalRefs: [{ system: 'shop', id: 'S1' }], tags: ['vip', 'b2b'] });
    expect((await crm.contacts.getByExternalRef('shop', 'S1'))?.id).toBe(ada.id);
  });

  it('reads dotted keys of row objects as paths, and keys on externalRef:<system> with them', async () => {
    const { crm } = await createTestCrm();
    await crm.customFields.define({ entity: 'contact', key: 'vatId', label: 'VAT', type: 'text' });
    const report = await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'externalRef:shop', rows: [{ name: 'Bob', 'custom.vatId': 'DE9', 'externalRefs.shop': '7' }] });
    expect(report.rows.map((r) => r.outcome)).toEqual(['created']);
    expect(await crm.contacts.get(report.rows[0]!.id!)).toMatchObject({ name: 'Bob', custom: { vatId: 'DE9' }, externalRefs: [{ system: 'shop', id: '7' }] });
    const again = await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'externalRef:shop', rows: [{ name: 'Bobby', 'externalRefs.shop': '7' }] });
    expect(again.rows.map((r) => [r.outcome, r.id])).toEqual([['updated', report.rows[0]!.id]]);
  });

  it('refuses a header typo, a missing required column and an undefined custom field up front: no job, no row written', async () => {
    const { crm, storage } = await createTestCrm();
    const cases: [string, string, (string | number)[], string][] = [
      ['contact', 'nmae,name,email\r\nAda,Ada,ada@x.org\r\n', ['csv', 'nmae'], 'unknown_field'],
      ['contact', 'email\r\nada@x.org\r\n', ['csv', 'name'], 'unmapped_required'],
      ['contact', 'name,custom.nope\r\nAda,1\r\n', ['csv', 'custom.nope'], 'unknown_field'],
      ['company', 'name,domian\r\nAcme,acme.com\r\n', ['csv', 'domian'], 'unknown_field'],
      ['deal', 'name\r\nBig\r\n', ['csv', 'title'], 'unmapped_required'],
      ['activity', 'subject\r\nCall\r\n', ['csv', 'kind'], 'unmapped_required'],
    ];
    for (const [entity, file, path, code] of cases) {
      const error = await refused(crm.import.run({ entity: entity as 'contact', csv: csvSource(file) }));
      expect(error, file).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path, code }] } });
      // In a dry run too: the same verdict.
      expect(await refused(crm.import.run({ entity: entity as 'contact', csv: csvSource(file), dryRun: true })), file).toMatchObject({ code: 'VALIDATION' });
    }
    const upsert = await refused(crm.import.run({ entity: 'contact', mode: 'upsert', key: 'email', csv: csvSource('name\r\nAda\r\n') }));
    expect(upsert).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['csv', 'email'], code: 'unmapped_required' }] } });
    expect(await stored(storage, 'importJob')).toEqual([]);
    expect(await stored(storage, 'contact')).toEqual([]);
    expect(await stored(storage, 'company')).toEqual([]);
    // An update needs no name column.
    const update = await crm.import.run({ entity: 'contact', mode: 'update', key: 'email', csv: csvSource('email,phone\r\nada@x.org,+4930123456\r\n') });
    expect(update.rows.map((r) => r.outcome)).toEqual(['failed']);
    expect(update.rows[0]!.error).toBe('NOT_FOUND');
  });
});

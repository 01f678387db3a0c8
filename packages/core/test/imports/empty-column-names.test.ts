import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';

type Storage = Awaited<ReturnType<typeof createTestCrm>>['storage'];
const stored = (storage: Storage, entity: string) => storage.transaction('r', async (tx) => (await tx.query(entity, 'test', { limit: 100 })).rows);
const refused = (run: Promise<unknown>) => run.then(() => undefined, (e: unknown) => e);
const text = async (chunks: AsyncIterable<string>) => {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
};

/** A column with no name is refused up front, not read as nothing on every row (review16h #7). */
describe('empty column names', () => {
  it('a mapping naming an empty or blank column is VALIDATION at its path, before a job or row is written (import and export)', async () => {
    const { crm, storage } = await createTestCrm();
    const cases: [Record<string, unknown>, (string | number)[]][] = [
      [{ name: '' }, ['mapping', 'name']],
      [{ name: 'N', email: '  ' }, ['mapping', 'email']],
      [{ name: { column: '' } }, ['mapping', 'name', 'column']],
      [{ name: { columns: ['First', ''] } }, ['mapping', 'name', 'columns']],
      [{ name: 'N', 'custom.budget': { column: 'B', as: 'money', currencyColumn: '' } }, ['mapping', 'custom.budget', 'currencyColumn']],
    ];
    for (const [mapping, path] of cases) {
      const error = await refused(crm.import.run({ entity: 'contact', rows: [{ N: 'Ada', First: 'Ada', B: '1' }], mapping: mapping as never }));
      expect(error, JSON.stringify(mapping)).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path, code: 'invalid_value' }] } });
      const exported = await refused((async () => text(crm.export.run({ entity: 'contact', mapping: mapping as never })))());
      expect(exported, JSON.stringify(mapping)).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path, code: 'invalid_value' }] } });
    }
    expect(await stored(storage, 'importJob')).toEqual([]);
    expect(await stored(storage, 'contact')).toEqual([]);
  });

  it('a CSV header cell without a name is refused without a mapping; with one, the unnamed column is simply not read', async () => {
    const { crm, storage } = await createTestCrm();
    for (const file of ['name,\r\nAda,Countess\r\n', 'name,,email\r\nAda,x,ada@x.org\r\n', ',name\r\nx,Ada\r\n']) {
      const error = await refused(crm.import.run({ entity: 'contact', csv: csvSource(file) }));
      expect(error, file).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['csv', ''], code: 'unknown_field' }] } });
      expect((error as Error).message).toMatch(/column \d of the header has no name/);
    }
    expect(await stored(storage, 'importJob')).toEqual([]);
    expect(await stored(storage, 'contact')).toEqual([]);
    const mapped = await crm.import.run({ entity: 'contact', csv: csvSource('name,\r\nAda,Countess\r\n'), mapping: { name: 'name' } });
    expect(mapped.rows.map((r) => r.outcome)).toEqual(['created']);
  });
});

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isCrmError, type Filter, type StorageAdapter } from '@crmkit/core';
import { CUSTOM_PATH_PATTERN, executeAggregate, executeQuery, type Row } from '@crmkit/core/storage';
import { endSubjects, openSubject, subjects } from './support/subjects.js';

/** Strings that break naive SQL or JSON-path building. (NUL is left out: PostgreSQL text cannot hold it.) */
const PAYLOADS = [
  "'); DROP TABLE deal;--",
  "' OR '1'='1",
  '" OR ""="',
  "$.a' || '",
  '$.custom',
  '$[0]',
  '\\',
  '\\"; --',
  '%',
  '_',
  '?',
  '$1',
  ':name',
  '@p',
  '\u2028\u2029',
  '*/ SELECT 1; /*',
  '{"a":1}',
  '日本語 🙂 \uFFFF \u{10FFFF}',
  '',
  ' ',
];

const TYPES = { 'custom.note': 'string', 'custom.labels': 'string[]' } as const;

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
afterAll(() => endSubjects());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

for (const subject of subjects()) {
  describe(`hostile input: ${subject.name}`, () => {
    async function seeded(): Promise<{ adapter: StorageAdapter; rows: Row[] }> {
      const { adapter, dispose } = await openSubject(subject);
      cleanups.push(dispose);
      const rows = PAYLOADS.map((p, i) => ({
        id: `r${String(i).padStart(2, '0')}`,
        tenantId: 't',
        version: 1,
        title: p,
        ownerId: i % 2 ? p : 'u1',
        tags: [p, 'x'],
        custom: { note: p, labels: [p] },
      })) as Row[];
      await adapter.transaction('rw', (tx) => tx.write('deal', 't', rows.map((row) => ({ type: 'insert' as const, row }))));
      return { adapter, rows };
    }

    async function intact(adapter: StorageAdapter, count: number): Promise<void> {
      const [all] = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't', { metrics: { n: { fn: 'count' } } }));
      expect(all!.values.n).toBe(count);
    }

    it('treats payloads in every filter value as plain data, agreeing with the reference', async () => {
      const { adapter, rows } = await seeded();
      for (const p of PAYLOADS) {
        const filters: Filter[] = [
          { op: 'eq', field: 'title', value: p },
          { op: 'in', field: 'ownerId', values: [p, null] },
          { op: 'prefix', field: 'title', value: p },
          { op: 'lt', field: 'title', value: p },
          { op: 'gte', field: 'custom.note', value: p },
          { op: 'prefix', field: 'custom.note', value: p },
          { op: 'containsAny', field: 'tags', values: [p] },
          { op: 'containsAny', field: 'custom.labels', values: [p, 'zz'] },
          { op: 'eq', field: 'id', value: p },
        ];
        for (const filter of filters) {
          const spec = { filter, sort: [{ field: 'title' as const }, { field: 'custom.note' as const, direction: 'desc' as const }], customTypes: TYPES };
          const { rows: found } = await adapter.transaction('r', (tx) => tx.query('deal', 't', spec));
          expect(found.map((r) => r.id), `${JSON.stringify(filter)}`).toEqual(executeQuery(rows, spec).rows.map((r) => r.id));
        }
        const agg = { filter: { op: 'prefix', field: 'title', value: p } as Filter, groupBy: ['custom.note'], metrics: { n: { fn: 'count' as const } }, customTypes: TYPES };
        expect(await adapter.transaction('r', (tx) => tx.aggregate('deal', 't', agg))).toEqual(executeAggregate(rows, agg));
      }
      await intact(adapter, rows.length);
    });

    it('stores and finds hostile ids and tenant ids, and keeps tenants apart', async () => {
      const { adapter, rows } = await seeded();
      for (const p of PAYLOADS.filter(Boolean)) {
        const row = { id: p, tenantId: p, version: 1, title: p } as Row;
        await adapter.transaction('rw', (tx) => tx.write('deal', p, [{ type: 'insert', row }]));
        const [back, missing] = await adapter.transaction('r', (tx) => tx.getMany('deal', p, [p, `${p}x`]));
        expect([back, missing]).toEqual([row, undefined]);
        const { rows: listed } = await adapter.transaction('r', (tx) => tx.query('deal', p, { filter: { op: 'eq', field: 'id', value: p } }));
        expect(listed).toEqual([row]);
        await adapter.transaction('rw', (tx) => tx.write('deal', p, [{ type: 'delete', id: p, expectedVersion: 1 }]));
      }
      await intact(adapter, rows.length);
    });

    it('rejects hostile field, sort, custom-field and entity names without running them', async () => {
      const { adapter, rows } = await seeded();
      for (const p of PAYLOADS.filter(Boolean)) {
        // (`custom.note_` is a legal custom path, so names the pattern accepts are left out.)
        const names = [p, `custom.${p}`, `custom.note${p}`, `title${p}`, `custom.note.amount${p}`, `value.${p}`].filter((n) => !CUSTOM_PATH_PATTERN.test(n));
        for (const field of names) {
          const filterError = await rejection(adapter.transaction('r', (tx) => tx.query('deal', 't', { filter: { op: 'eq', field, value: 'x' }, customTypes: { [field]: 'string' } })));
          expect(isCrmError(filterError, 'VALIDATION'), `${field}: ${String(filterError)}`).toBe(true);
          const sortError = await rejection(adapter.transaction('r', (tx) => tx.query('deal', 't', { sort: [{ field }], customTypes: { [field]: 'string' } })));
          expect(isCrmError(sortError, 'VALIDATION'), `${field}: ${String(sortError)}`).toBe(true);
          const groupError = await rejection(adapter.transaction('r', (tx) => tx.aggregate('deal', 't', { groupBy: [field], metrics: { n: { fn: 'count' } } })));
          expect(isCrmError(groupError, 'VALIDATION'), `${field}: ${String(groupError)}`).toBe(true);
        }
        const entityError = await rejection(adapter.transaction('r', (tx) => tx.getMany(p, 't', ['x'])));
        expect(isCrmError(entityError, 'STORAGE') && entityError.details.retryable).toBe(false);
        const cursorError = await rejection(adapter.transaction('r', (tx) => tx.query('deal', 't', { after: p, limit: 1 })));
        expect(isCrmError(cursorError, 'VALIDATION')).toBe(true);
        // A custom path of unknown type is refused rather than guessed.
        const typeError = await rejection(adapter.transaction('r', (tx) => tx.query('deal', 't', { sort: [{ field: 'custom.note' }], customTypes: { 'custom.note': p as 'string' } })));
        expect(isCrmError(typeError, 'VALIDATION')).toBe(true);
      }
      await intact(adapter, rows.length);
    });

    it('uses hostile metric names only as result keys', async () => {
      const { adapter, rows } = await seeded();
      const metrics = Object.fromEntries(PAYLOADS.filter(Boolean).map((p) => [p, { fn: 'count' as const }]));
      const [result] = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't', { metrics }));
      expect(result!.values).toEqual(Object.fromEntries(Object.keys(metrics).map((k) => [k, rows.length])));
      await intact(adapter, rows.length);
    });
  });
}

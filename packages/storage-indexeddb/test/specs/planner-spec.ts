import type { AggregateRow, Filter, QuerySpec, SortSpec, StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA, executeAggregate, executeQuery, type Row, type StorageSchema } from '@crmkit/core/storage';
import { DIFFERENTIAL_CUSTOM_TYPES, DIFFERENTIAL_FIELDS, differentialAggregateArb, differentialDatasetArb, differentialFilterArb, differentialQueryArb } from '@crmkit/core/testing';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { countReads } from './read-counter.js';
import { row, seed, type IdbTestEnv } from './env.js';

const deal = CRM_STORAGE_SCHEMA.entities.find((e) => e.name === 'deal')!;

/** Deals indexed over every kind of field the differential data has: text with tricky code points, numbers, booleans, lists; one index sparse. */
export const INDEXED_SCHEMA: StorageSchema = {
  version: 1,
  entities: [
    {
      name: 'deal',
      fields: deal.fields,
      indexes: [
        { name: 'title', fields: ['title'] },
        // Sparse fields (in no other index): deals without a stage, or without a probability, are not in these.
        { name: 'stageTitle', fields: ['stageKey', 'title'], sparse: ['stageKey'] },
        { name: 'manualAmount', fields: ['probabilityManual', 'value.amount'] },
        { name: 'ownerProbability', fields: ['ownerId', 'probability', 'expectedCloseDate'], sparse: ['probability'] },
        { name: 'statusClose', fields: ['status', 'expectedCloseDate'] },
        { name: 'amount', fields: ['value.amount'] },
        { name: 'tags', fields: ['tags'] },
      ],
    },
  ],
};

const byField = new Map(DIFFERENTIAL_FIELDS.map((f) => [f.field, f]));
const compound = INDEXED_SCHEMA.entities[0]!.indexes.filter((i) => byField.get(i.fields[0]!)!.type !== 'string[]');

/** Queries shaped like an index: equality on leading fields, a range on the next, a sort on the rest. */
const indexedQueryArb: fc.Arbitrary<QuerySpec> = fc.constantFrom(...compound).chain((index) => {
  const catalog = index.fields.map((f) => byField.get(f)!);
  const pointArb = (c: (typeof catalog)[number]) =>
    fc.oneof(
      c.value.map((v): Filter => ({ op: 'eq', field: c.field, value: v })),
      fc.constant<Filter>({ op: 'eq', field: c.field, value: null }),
      fc.array(fc.option(c.value, { nil: null, freq: 4 }), { maxLength: 3 }).map((values): Filter => ({ op: 'in', field: c.field, values })),
    );
  return fc
    .record({
      fixed: fc.integer({ min: 0, max: index.fields.length }),
      points: fc.tuple(...catalog.map(pointArb)),
      range: fc.tuple(fc.constantFrom('lt', 'lte', 'gt', 'gte', 'prefix'), fc.oneof(...catalog.map((c) => c.value))),
      useRange: fc.boolean(),
      desc: fc.boolean(),
      flip: fc.integer({ min: -1, max: 3 }),
      withId: fc.boolean(),
      extra: fc.option(differentialFilterArb, { nil: undefined, freq: 3 }),
      limit: fc.integer({ min: 1, max: 15 }),
    })
    .map(({ fixed, points, range, useRange, desc, flip, withId, extra, limit }) => {
      const filters: Filter[] = points.slice(0, fixed);
      const next = catalog[fixed];
      const [op, value] = range;
      if (useRange && next && next.type !== 'boolean' && typeof value === (next.type === 'number' ? 'number' : 'string') && (op !== 'prefix' || next.type === 'string')) {
        filters.push({ op, field: next.field, value } as Filter);
      }
      if (extra) filters.push(extra);
      const sort: SortSpec[] = index.fields.slice(fixed).map((field, i) => ({ field, direction: desc !== (i === flip) ? 'desc' : 'asc' }));
      if (withId) sort.push({ field: 'id', direction: desc ? 'desc' : 'asc' });
      return { filter: { op: 'and', filters } as Filter, sort, limit, customTypes: DIFFERENTIAL_CUSTOM_TYPES };
    });
});

function closeEnough(actual: AggregateRow[], expected: AggregateRow[]): boolean {
  return (
    actual.length === expected.length &&
    actual.every((r, i) => {
      const e = expected[i]!;
      return (
        JSON.stringify(r.group) === JSON.stringify(e.group) &&
        Object.keys(e.values).length === Object.keys(r.values).length &&
        Object.keys(e.values).every((k) => {
          const a = r.values[k];
          const b = e.values[k];
          return typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) : a === b;
        })
      );
    })
  );
}

async function reset(adapter: StorageAdapter, rows: readonly Row[]): Promise<void> {
  await adapter.transaction('rw', async (tx) => {
    const { rows: existing } = await tx.query('deal', 'diff', {});
    if (existing.length) await tx.write('deal', 'diff', existing.map((r) => ({ type: 'delete' as const, id: r.id })));
    if (rows.length) await tx.write('deal', 'diff', rows.map((r) => ({ type: 'insert' as const, row: r })));
  });
}

/** Asserts that a query and all its following pages give exactly what the reference gives. */
async function expectSameAsReference(adapter: StorageAdapter, rows: readonly Row[], spec: QuerySpec): Promise<void> {
  const expected = executeQuery(rows, spec);
  const actual = await adapter.transaction('r', (tx) => tx.query('deal', 'diff', spec));
  expect(actual.rows.map((r) => r.id)).toEqual(expected.rows.map((r) => r.id));
  expect(actual.rows).toEqual(expected.rows);
  expect(actual.nextCursor === undefined).toBe(expected.nextCursor === undefined);
  const seen = actual.rows.map((r) => r.id);
  let after = actual.nextCursor;
  while (after) {
    const page: { rows: Row[]; nextCursor?: string } = await adapter.transaction('r', (tx) => tx.query('deal', 'diff', { ...spec, after }));
    seen.push(...page.rows.map((r) => r.id));
    after = page.nextCursor;
  }
  expect(seen).toEqual(executeQuery(rows, { ...spec, limit: undefined }).rows.map((r) => r.id));
}

/** The query planner against the reference, on a schema where every kind of field is indexed. */
export function plannerTests(env: IdbTestEnv, numRuns = 60): void {
  describe(`indexeddb query planner (${env.label})`, () => {
    let adapters: StorageAdapter[] = [];
    const make = async (schema: StorageSchema = INDEXED_SCHEMA) => {
      const adapter = createIndexedDbStorage(env.options());
      adapters.push(adapter);
      await adapter.open(schema);
      return adapter;
    };
    afterEach(async () => {
      for (const adapter of adapters) await adapter.close();
      adapters = [];
    });

    it('index-shaped queries (equality prefix, range, index-ordered walks, cursors) agree with the reference', async () => {
      const adapter = await make();
      await fc.assert(
        fc.asyncProperty(differentialDatasetArb('diff'), fc.array(indexedQueryArb, { minLength: 1, maxLength: 4 }), async (rows, specs) => {
          await reset(adapter, rows);
          for (const spec of specs) await expectSameAsReference(adapter, rows, spec);
        }),
        { numRuns },
      );
    }, 240_000);

    it('random queries on indexed text, numbers, booleans and lists agree with the reference', async () => {
      const adapter = await make();
      await fc.assert(
        fc.asyncProperty(differentialDatasetArb('diff'), fc.array(differentialQueryArb, { minLength: 1, maxLength: 4 }), async (rows, specs) => {
          await reset(adapter, rows);
          for (const spec of specs) await expectSameAsReference(adapter, rows, spec);
        }),
        { numRuns },
      );
    }, 240_000);

    it('aggregates over indexed fields agree with the reference', async () => {
      const adapter = await make();
      const countArb = fc.record({ filter: fc.oneof(indexedQueryArb.map((q) => q.filter!), differentialFilterArb), groupBy: fc.constantFrom([], ['ownerId'], ['status']) });
      await fc.assert(
        fc.asyncProperty(differentialDatasetArb('diff'), fc.array(differentialAggregateArb, { maxLength: 2 }), fc.array(countArb, { maxLength: 3 }), async (rows, specs, counts) => {
          await reset(adapter, rows);
          const all = [...specs, ...counts.map((c) => ({ ...c, metrics: { n: { fn: 'count' as const } } }))];
          for (const spec of all) {
            const expected = executeAggregate(rows, spec);
            const actual = await adapter.transaction('r', (tx) => tx.aggregate('deal', 'diff', spec));
            if (!closeEnough(actual, expected)) expect(actual).toEqual(expected);
          }
        }),
        { numRuns },
      );
    }, 240_000);

    it('orders and ranges text by code point, including surrogate pairs against U+E000–U+FFFF', async () => {
      const adapter = await make();
      const titles = ['', 'a', 'Ω', '日本', '\uE000', '\uFFFD', '\uFFFF', '🙂', '🙂a', '\uD83D\uDE00', '𝔸', 'z', '\uFFFF\uFFFF', 'a\uFFFF'];
      const rows = titles.map((title, i) => row(`r${String(i).padStart(2, '0')}`, { title, stageKey: i % 2 ? 'odd' : 'even' }, 'diff'));
      await reset(adapter, rows);
      const specs: QuerySpec[] = [];
      for (const direction of ['asc', 'desc'] as const) {
        for (const limit of [1, 3, undefined]) {
          specs.push({ sort: [{ field: 'title', direction }], ...(limit ? { limit } : {}) });
          specs.push({ filter: { op: 'eq', field: 'stageKey', value: 'odd' }, sort: [{ field: 'title', direction }], ...(limit ? { limit } : {}) });
        }
      }
      // (A lone surrogate such as '\uD83D' is no filter value: every adapter refuses it with VALIDATION.)
      for (const value of ['\uE000', '🙂', '\uD83D\uDE00', '\uFFFF', 'Ω', '', 'a']) {
        for (const op of ['lt', 'lte', 'gt', 'gte', 'prefix', 'eq'] as const) {
          specs.push({ filter: { op, field: 'title', value } as Filter, sort: [{ field: 'title' }], limit: 4 });
          specs.push({ filter: { op: 'and', filters: [{ op: 'eq', field: 'stageKey', value: 'even' }, { op, field: 'title', value } as Filter] }, sort: [{ field: 'title', direction: 'desc' }], limit: 2 });
        }
      }
      for (const spec of specs) await expectSameAsReference(adapter, rows, spec);
    });

    it('reads only about one page of records for an index-ordered page, also deep in the list and with ties', async () => {
      const adapter = await make(CRM_STORAGE_SCHEMA);
      const rows: Row[] = [];
      for (let i = 0; i < 600; i++) {
        const entered = i < 300 ? `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(3, '0')}Z` : '2026-02-01T00:00:00.000Z';
        rows.push(row(`d${String(i).padStart(4, '0')}`, { pipelineId: i % 3 ? 'p1' : 'p2', stageKey: i % 2 ? 's1' : 's2', stageEnteredAt: entered, value: { amount: i, currency: 'EUR' } }));
      }
      await seed(adapter, rows);
      const reads = countReads(env);
      try {
        const column = (direction: 'asc' | 'desc', after?: string): QuerySpec => ({
          filter: { op: 'and', filters: [{ op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: 'p1' }] }, { op: 'eq', field: 'stageKey', value: 's1' }] },
          sort: [{ field: 'stageEnteredAt', direction }],
          limit: 10,
          ...(after ? { after } : {}),
        });
        const reference = (spec: QuerySpec) => executeQuery(rows, spec).rows.map((r) => r.id);
        for (const direction of ['asc', 'desc'] as const) {
          let after: string | undefined;
          for (let page = 0; page < 3; page++) {
            const start = reads.records;
            const spec = column(direction, after);
            const result = await adapter.transaction('r', (tx) => tx.query('deal', 't1', spec));
            expect(result.rows.map((r) => r.id)).toEqual(reference(spec));
            // Ascending: limit + 1 records (+ the cursor's row). Descending (cursor): the page plus the tie group at its end.
            expect(reads.records - start).toBeLessThanOrEqual(direction === 'asc' ? 12 : 160);
            after = result.nextCursor;
          }
        }
        let start = reads.records;
        const counted = await adapter.transaction('r', (tx) =>
          tx.aggregate('deal', 't1', { filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: 'p1' }, { op: 'eq', field: 'stageKey', value: 's1' }] }, groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } }),
        );
        expect(counted).toEqual(executeAggregate(rows, { filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: 'p1' }, { op: 'eq', field: 'stageKey', value: 's1' }] }, groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } }));
        expect(reads.records - start).toBeLessThanOrEqual(3); // the stage's groups of the board totals (one per currency)
        start = reads.records;
        const spec = { filter: { op: 'eq', field: 'pipelineId', value: 'p2' } as Filter, groupBy: ['stageKey'], metrics: { total: { fn: 'sum', field: 'value.amount' } } } as const;
        expect(await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', spec))).toEqual(executeAggregate(rows, spec));
        expect(reads.records - start).toBeLessThan(20); // the pipeline's groups of the board totals, not its rows
        start = reads.records;
        const scanned = { ...spec, metrics: { total: { fn: 'sum', field: 'probability' } } } as const;
        expect(await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', scanned))).toEqual(executeAggregate(rows, scanned));
        expect(reads.records - start).toBe(200); // no view sums probability: only the pipeline's rows, never the whole store
        start = reads.records;
        const exact = { filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }] } as Filter, metrics: { n: { fn: 'count' } } } as const;
        expect(await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', exact))).toEqual(executeAggregate(rows, exact));
        expect(reads.records - start).toBe(0); // counted by the engine on an index
      } finally {
        reads.restore();
      }
    });
  });
}

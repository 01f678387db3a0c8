import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import type { Filter, QuerySpec, SortSpec } from '../../query/query-spec.js';
import type { Row, StorageAdapter, StorageTx } from '../../storage/storage-adapter.js';
import { dealRow, rejection, seed, type Harness } from './harness.js';

const CUSTOM_TYPES = { 'custom.tier': 'string', 'custom.score': 'number', 'custom.vip': 'boolean', 'custom.labels': 'string[]', 'custom.budget.amount': 'number' } as const;

/** A small fixed dataset where every operator has matches, misses and missing values. */
const ROWS: Row[] = [
  dealRow('d1', { title: 'Alpha', stageKey: 'new', ownerId: 'u1', value: { amount: 100, currency: 'EUR' }, probabilityManual: true, tags: ['vip', 'b2b'], custom: { tier: 'gold', score: 3, vip: true, labels: ['a'], budget: { amount: 500, currency: 'EUR' } } }),
  dealRow('d2', { title: 'alpha', stageKey: 'new', ownerId: 'u2', value: { amount: 250, currency: 'EUR' }, probabilityManual: false, tags: [], custom: { tier: 'silver', score: 1.5 } }),
  dealRow('d3', { title: 'Beta', stageKey: 'proposal', value: { amount: 250, currency: 'USD' }, tags: ['b2b'], custom: { vip: false, labels: ['a', 'b'] } }),
  dealRow('d4', { title: 'Al%pha_', stageKey: 'proposal', ownerId: 'u1', value: { amount: -5, currency: 'EUR' }, custom: { score: -2 } }),
  dealRow('d5', { stageKey: 'won', ownerId: 'u3', tags: ['vip'], custom: { tier: 'gold', labels: ['c'] } }),
  dealRow('d6', { title: 'Ωmega', ownerId: 'u2', value: { amount: 0, currency: 'EUR' }, custom: { score: 10 } }),
];

async function query(adapter: StorageAdapter, spec: QuerySpec): Promise<string[]> {
  const { rows } = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { customTypes: CUSTOM_TYPES, ...spec }));
  return rows.map((r) => r.id);
}

const ids = (filter: Filter) => ({ filter, sort: [{ field: 'id' }] as SortSpec[] });

/** Every filter operator, sort, pagination and aggregate on a fixed dataset. */
export function queryTests(h: Harness): void {
  describe('filters', () => {
    const cases: [string, Filter, string[]][] = [
      ['eq on text', { op: 'eq', field: 'title', value: 'alpha' }, ['d2']],
      ['eq on a number path', { op: 'eq', field: 'value.amount', value: 250 }, ['d2', 'd3']],
      ['eq on a boolean', { op: 'eq', field: 'probabilityManual', value: false }, ['d2']],
      ['eq null matches missing', { op: 'eq', field: 'ownerId', value: null }, ['d3']],
      ['eq null on a nested path', { op: 'eq', field: 'value.amount', value: null }, ['d5']],
      ['in with null', { op: 'in', field: 'ownerId', values: ['u3', null] }, ['d3', 'd5']],
      ['in with nothing matches nothing', { op: 'in', field: 'ownerId', values: [] }, []],
      ['lt on numbers skips missing', { op: 'lt', field: 'value.amount', value: 100 }, ['d4', 'd6']],
      ['lte on numbers', { op: 'lte', field: 'value.amount', value: 100 }, ['d1', 'd4', 'd6']],
      ['gt on numbers', { op: 'gt', field: 'value.amount', value: 100 }, ['d2', 'd3']],
      ['gte on numbers', { op: 'gte', field: 'value.amount', value: 250 }, ['d2', 'd3']],
      ['gt on text is by code point', { op: 'gt', field: 'title', value: 'Beta' }, ['d2', 'd6']],
      ['lt on text', { op: 'lt', field: 'title', value: 'B' }, ['d1', 'd4']],
      ['prefix is case-sensitive', { op: 'prefix', field: 'title', value: 'Al' }, ['d1', 'd4']],
      ['prefix treats % and _ literally', { op: 'prefix', field: 'title', value: 'Al%' }, ['d4']],
      ['empty prefix matches every present text', { op: 'prefix', field: 'title', value: '' }, ['d1', 'd2', 'd3', 'd4', 'd6']],
      ['containsAny on a list', { op: 'containsAny', field: 'tags', values: ['vip'] }, ['d1', 'd5']],
      ['containsAny with several values', { op: 'containsAny', field: 'tags', values: ['vip', 'b2b'] }, ['d1', 'd3', 'd5']],
      ['containsAny with nothing', { op: 'containsAny', field: 'tags', values: [] }, []],
      ['custom text', { op: 'eq', field: 'custom.tier', value: 'gold' }, ['d1', 'd5']],
      ['custom number range', { op: 'gte', field: 'custom.score', value: 1.5 }, ['d1', 'd2', 'd6']],
      ['custom boolean', { op: 'eq', field: 'custom.vip', value: false }, ['d3']],
      ['custom missing', { op: 'eq', field: 'custom.tier', value: null }, ['d3', 'd4', 'd6']],
      ['custom multiselect', { op: 'containsAny', field: 'custom.labels', values: ['b', 'c'] }, ['d3', 'd5']],
      ['custom money amount', { op: 'gt', field: 'custom.budget.amount', value: 100 }, ['d1']],
      ['and', { op: 'and', filters: [{ op: 'eq', field: 'ownerId', value: 'u1' }, { op: 'eq', field: 'stageKey', value: 'new' }] }, ['d1']],
      ['or', { op: 'or', filters: [{ op: 'eq', field: 'ownerId', value: 'u3' }, { op: 'eq', field: 'stageKey', value: 'proposal' }] }, ['d3', 'd4', 'd5']],
      ['empty and matches all', { op: 'and', filters: [] }, ['d1', 'd2', 'd3', 'd4', 'd5', 'd6']],
      ['empty or matches none', { op: 'or', filters: [] }, []],
      [
        'nested and/or',
        { op: 'or', filters: [{ op: 'and', filters: [{ op: 'eq', field: 'stageKey', value: 'new' }, { op: 'gt', field: 'value.amount', value: 150 }] }, { op: 'eq', field: 'id', value: 'd6' }] },
        ['d2', 'd6'],
      ],
    ];
    for (const [name, filter, expected] of cases) {
      it(name, async () => {
        const { adapter } = await h.open();
        await seed(adapter, 'deal', ROWS);
        expect(await query(adapter, ids(filter))).toEqual(expected);
      });
    }
  });

  describe('sorting', () => {
    const cases: [string, SortSpec[], string[]][] = [
      ['by number ascending, missing first, ties by id', [{ field: 'value.amount' }], ['d5', 'd4', 'd6', 'd1', 'd2', 'd3']],
      ['by number descending, missing last, ties by id', [{ field: 'value.amount', direction: 'desc' }], ['d2', 'd3', 'd1', 'd6', 'd4', 'd5']],
      ['by text by code point', [{ field: 'title' }], ['d5', 'd4', 'd1', 'd3', 'd2', 'd6']],
      ['by two keys', [{ field: 'stageKey', direction: 'desc' }, { field: 'value.amount', direction: 'desc' }], ['d5', 'd3', 'd4', 'd2', 'd1', 'd6']],
      ['by a custom number', [{ field: 'custom.score' }], ['d3', 'd5', 'd4', 'd2', 'd1', 'd6']],
      ['by a custom boolean', [{ field: 'custom.vip', direction: 'desc' }], ['d1', 'd3', 'd2', 'd4', 'd5', 'd6']],
      ['by id descending', [{ field: 'id', direction: 'desc' }], ['d6', 'd5', 'd4', 'd3', 'd2', 'd1']],
      ['by nothing: id ascending', [], ['d1', 'd2', 'd3', 'd4', 'd5', 'd6']],
    ];
    for (const [name, sort, expected] of cases) {
      it(name, async () => {
        const { adapter } = await h.open();
        await seed(adapter, 'deal', ROWS);
        expect(await query(adapter, { sort })).toEqual(expected);
      });
    }
  });

  describe('pagination', () => {
    it('walks every page without gaps or repeats, for every sort and page size', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const sorts: SortSpec[][] = [[], [{ field: 'value.amount' }], [{ field: 'title', direction: 'desc' }], [{ field: 'custom.score', direction: 'desc' }, { field: 'ownerId' }]];
      for (const sort of sorts) {
        const all = await query(adapter, { sort });
        for (const limit of [1, 2, 4, 6, 7]) {
          const seen: string[] = [];
          let after: string | undefined;
          let pages = 0;
          do {
            const page = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort, limit, customTypes: CUSTOM_TYPES, ...(after ? { after } : {}) }));
            expect(page.rows.length).toBeLessThanOrEqual(limit);
            seen.push(...page.rows.map((r) => r.id));
            after = page.nextCursor;
            if (after) expect(page.rows.length).toBe(limit);
            expect(++pages).toBeLessThan(20);
          } while (after);
          expect(seen).toEqual(all);
        }
      }
    });

    it('gives no cursor when the last page is exactly full', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const page = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'id' }], limit: 6 }));
      expect(page.rows.length).toBe(6);
      expect(page.nextCursor).toBeUndefined();
    });

    it('continues correctly after rows are inserted between pages', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const first = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'id' }], limit: 3 }));
      await seed(adapter, 'deal', [dealRow('d0'), dealRow('d35')]);
      const second = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'id' }], limit: 10, after: first.nextCursor! }));
      expect(second.rows.map((r) => r.id)).toEqual(['d35', 'd4', 'd5', 'd6']);
    });

    it('rejects a cursor made for another sort with VALIDATION', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const page = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'title' }], limit: 2 }));
      const error = await rejection(adapter.transaction('r', (tx) => tx.query('deal', 't1', { sort: [{ field: 'id' }], limit: 2, after: page.nextCursor! })));
      expect(isCrmError(error, 'VALIDATION')).toBe(true);
    });
  });

  describe('fields', () => {
    it('refuses a field the entity does not declare with VALIDATION, in filters, sorts, groups and metrics', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const bad = { op: 'eq', field: 'notAField', value: 1 } as const;
      const refused = [
        (tx: StorageTx): Promise<unknown> => tx.query('deal', 't1', { filter: { op: 'and', filters: [{ op: 'eq', field: 'title', value: 'x' }, bad] } }),
        (tx: StorageTx): Promise<unknown> => tx.query('deal', 't1', { sort: [{ field: 'notAField' }] }),
        (tx: StorageTx): Promise<unknown> => tx.aggregate('deal', 't1', { groupBy: ['notAField'], metrics: { n: { fn: 'count' } } }),
        (tx: StorageTx): Promise<unknown> => tx.aggregate('deal', 't1', { metrics: { s: { fn: 'sum', field: 'notAField' } } }),
        (tx: StorageTx): Promise<unknown> => tx.aggregate('deal', 't1', { metrics: { n: { fn: 'count', where: bad } } }),
      ];
      for (const run of refused) {
        const error = await rejection(adapter.transaction('r', run));
        expect(isCrmError(error, 'VALIDATION'), String(error)).toBe(true);
      }
      expect(await query(adapter, { filter: { op: 'eq', field: 'id', value: 'd1' } })).toEqual(['d1']);
    });
  });

  describe('aggregates', () => {
    it('counts, sums, averages and finds extremes per group, in group order', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const rows = await adapter.transaction('r', (tx) =>
        tx.aggregate('deal', 't1', {
          groupBy: ['stageKey'],
          metrics: {
            n: { fn: 'count' },
            total: { fn: 'sum', field: 'value.amount' },
            mean: { fn: 'avg', field: 'value.amount' },
            middle: { fn: 'median', field: 'value.amount' },
            low: { fn: 'min', field: 'title' },
            high: { fn: 'max', field: 'value.amount' },
          },
        }),
      );
      expect(rows).toEqual([
        { group: { stageKey: null }, values: { n: 1, total: 0, mean: 0, middle: 0, low: 'Ωmega', high: 0 } },
        { group: { stageKey: 'new' }, values: { n: 2, total: 350, mean: 175, middle: 175, low: 'Alpha', high: 250 } },
        { group: { stageKey: 'proposal' }, values: { n: 2, total: 245, mean: 122.5, middle: 122.5, low: 'Al%pha_', high: 250 } },
        { group: { stageKey: 'won' }, values: { n: 1, total: 0, mean: null, middle: null, low: null, high: null } },
      ]);
    });

    it('computes medians over odd and even counts, ignoring missing values', async () => {
      const { adapter } = await h.open();
      const amounts = [7, 1, 3, 10, undefined, 5, 2];
      await seed(adapter, 'deal', amounts.map((amount, i) => dealRow(`m${i}`, { stageKey: i < 3 ? 'a' : 'b', ...(amount === undefined ? {} : { value: { amount, currency: 'EUR' } }) })));
      const rows = await adapter.transaction('r', (tx) =>
        tx.aggregate('deal', 't1', { groupBy: ['stageKey'], metrics: { middle: { fn: 'median', field: 'value.amount' } } }),
      );
      // a: 7, 1, 3 → 3; b: 10, (missing), 5, 2 → median of 2, 5, 10 → 5
      expect(rows).toEqual([
        { group: { stageKey: 'a' }, values: { middle: 3 } },
        { group: { stageKey: 'b' }, values: { middle: 5 } },
      ]);
      const all = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', { metrics: { middle: { fn: 'median', field: 'value.amount' } } }));
      expect(all).toEqual([{ group: {}, values: { middle: 4 } }]); // 1 2 3 5 7 10 → (3 + 5) / 2
    });

    it('aggregates with a filter, two group keys and custom fields', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const rows = await adapter.transaction('r', (tx) =>
        tx.aggregate('deal', 't1', {
          filter: { op: 'in', field: 'ownerId', values: ['u1', 'u2'] },
          groupBy: ['ownerId', 'custom.tier'],
          metrics: { n: { fn: 'count' }, score: { fn: 'sum', field: 'custom.score' } },
          customTypes: CUSTOM_TYPES,
        }),
      );
      expect(rows).toEqual([
        { group: { ownerId: 'u1', 'custom.tier': null }, values: { n: 1, score: -2 } },
        { group: { ownerId: 'u1', 'custom.tier': 'gold' }, values: { n: 1, score: 3 } },
        { group: { ownerId: 'u2', 'custom.tier': null }, values: { n: 1, score: 10 } },
        { group: { ownerId: 'u2', 'custom.tier': 'silver' }, values: { n: 1, score: 1.5 } },
      ]);
    });

    it('metrics with their own filter count and sum only their rows, in one pass', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', ROWS);
      const rows = await adapter.transaction('r', (tx) =>
        tx.aggregate('deal', 't1', {
          groupBy: ['stageKey'],
          metrics: {
            all: { fn: 'count' },
            owned: { fn: 'count', where: { op: 'in', field: 'ownerId', values: ['u1', 'u2'] } },
            unowned: { fn: 'count', where: { op: 'eq', field: 'ownerId', value: null } },
            eur: { fn: 'sum', field: 'value.amount', where: { op: 'eq', field: 'value.currency', value: 'EUR' } },
            vipMedian: { fn: 'median', field: 'value.amount', where: { op: 'containsAny', field: 'tags', values: ['vip', 'b2b'] } },
            gold: { fn: 'max', field: 'custom.score', where: { op: 'eq', field: 'custom.tier', value: 'gold' } },
          },
          customTypes: CUSTOM_TYPES,
        }),
      );
      expect(rows).toEqual([
        { group: { stageKey: null }, values: { all: 1, owned: 1, unowned: 0, eur: 0, vipMedian: null, gold: null } },
        { group: { stageKey: 'new' }, values: { all: 2, owned: 2, unowned: 0, eur: 350, vipMedian: 100, gold: 3 } },
        { group: { stageKey: 'proposal' }, values: { all: 2, owned: 1, unowned: 1, eur: -5, vipMedian: 250, gold: null } },
        { group: { stageKey: 'won' }, values: { all: 1, owned: 0, unowned: 0, eur: 0, vipMedian: null, gold: null } },
      ]);
    });

    it('returns one row of zeros and nulls for an empty set without groups, and no rows with groups', async () => {
      const { adapter } = await h.open();
      const metrics = { n: { fn: 'count' }, total: { fn: 'sum', field: 'value.amount' }, mean: { fn: 'avg', field: 'value.amount' }, middle: { fn: 'median', field: 'value.amount' }, low: { fn: 'min', field: 'title' } } as const;
      const ungrouped = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', { metrics }));
      expect(ungrouped).toEqual([{ group: {}, values: { n: 0, total: 0, mean: null, middle: null, low: null } }]);
      const grouped = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', { groupBy: ['stageKey'], metrics }));
      expect(grouped).toEqual([]);
    });
  });
}

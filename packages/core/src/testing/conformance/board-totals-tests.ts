import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executeAggregate } from '../../query/execute.js';
import type { AggregateSpec } from '../../query/query-spec.js';
import type { Row, StorageAdapter, WriteOp } from '../../storage/storage-adapter.js';
import { closeEnough, dealRow, readAll, rejection, seed, type Harness } from './harness.js';

const STAGES = ['new', 'qualified', 'won'];
const CURRENCIES = ['EUR', 'USD'];

/** The aggregate `deals.board` asks: per stage and currency, count and both sums, over shown stages. */
const board = (pipelineId: string, stages = STAGES): AggregateSpec => ({
  filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: pipelineId }, { op: 'in', field: 'stageKey', values: stages }] },
  groupBy: ['stageKey', 'value.currency'],
  metrics: { count: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' }, weighted: { fn: 'sum', field: 'weightedValue.amount' } },
});

/** Other shapes the board totals can answer (fewer groups, no filter) and one they cannot (a metric filter). */
const shapes = (pipelineId: string): AggregateSpec[] => [
  board(pipelineId),
  board(pipelineId, ['qualified']),
  { groupBy: ['pipelineId'], metrics: { n: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' } } },
  { filter: { op: 'eq', field: 'value.currency', value: null }, metrics: { n: { fn: 'count' } } },
  { filter: { op: 'eq', field: 'pipelineId', value: pipelineId }, groupBy: ['stageKey'], metrics: { won: { fn: 'count', where: { op: 'eq', field: 'stageKey', value: 'won' } } } },
];

function deal(id: string, pipelineId: string, stageKey: string, amount: number | undefined, currency = 'EUR', version = 1): Row {
  const money = amount === undefined ? {} : { value: { amount, currency }, weightedValue: { amount: Math.round(amount / 2), currency } };
  return dealRow(id, { pipelineId, stageKey, version, ...money });
}

async function expectTotals(adapter: StorageAdapter, pipelineId = 'p1'): Promise<void> {
  const rows = await readAll(adapter, 'deal');
  for (const spec of shapes(pipelineId)) {
    const actual = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', spec));
    const expected = executeAggregate(rows, spec);
    if (!closeEnough(actual, expected)) expect(actual).toEqual(expected);
  }
}

/**
 * Materialized aggregates (the pipeline board's totals): whatever an adapter keeps must equal a scan
 * of the committed rows after inserts, stage and currency changes, deletes, rollbacks and writes of
 * another connection — and a transaction must see its own writes in them.
 */
export function boardTotalsTests(h: Harness): void {
  describe('board totals (materialized aggregates)', () => {
    it('follow inserts, stage moves, currency and amount changes, and deletes', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [deal('a', 'p1', 'new', 100), deal('b', 'p1', 'new', 250, 'USD'), deal('c', 'p1', 'qualified', 40), deal('d', 'p2', 'new', 7), deal('e', 'p1', 'new', undefined)]);
      await expectTotals(adapter);
      await adapter.transaction('rw', (tx) =>
        tx.write('deal', 't1', [
          { type: 'update', row: deal('a', 'p1', 'qualified', 100, 'EUR', 2), expectedVersion: 1 },
          { type: 'update', row: deal('b', 'p1', 'new', 250, 'EUR', 2), expectedVersion: 1 },
          { type: 'update', row: deal('c', 'p1', 'qualified', 45, 'EUR', 2), expectedVersion: 1 },
          { type: 'update', row: { ...deal('d', 'p2', 'new', 7, 'EUR', 2), title: 'only the title' }, expectedVersion: 1 },
        ]),
      );
      await expectTotals(adapter);
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: 'b' }, { type: 'delete', id: 'a', expectedVersion: 2 }]));
      await expectTotals(adapter);
      expect(await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', board('p1', ['new'])))).toEqual([
        { group: { stageKey: 'new', 'value.currency': null }, values: { count: 1, amount: 0, weighted: 0 } },
      ]);
    });

    it('are untouched by rolled-back and poisoned transactions, and other tenants', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [deal('a', 'p1', 'new', 100)]);
      const before = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', board('p1')));
      await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: deal('b', 'p1', 'new', 5) }, { type: 'update', row: deal('a', 'p1', 'won', 100, 'EUR', 2), expectedVersion: 1 }]);
          throw new Error('rollback');
        }),
      );
      await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: deal('c', 'p1', 'new', 9) }]);
          await tx.write('deal', 't1', [{ type: 'update', row: deal('a', 'p1', 'won', 1, 'EUR', 9), expectedVersion: 8 }]).catch(() => undefined);
        }),
      );
      await seed(adapter, 'deal', [{ ...deal('a', 'p1', 'new', 999), tenantId: 't2' }], 't2');
      expect(await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', board('p1')))).toEqual(before);
      await expectTotals(adapter);
    });

    it("include the transaction's own writes", async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [deal('a', 'p1', 'new', 100)]);
      const seen = await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'insert', row: deal('b', 'p1', 'new', 20) }, { type: 'update', row: deal('a', 'p1', 'qualified', 100, 'USD', 2), expectedVersion: 1 }]);
        const mid = await tx.aggregate('deal', 't1', board('p1'));
        await tx.write('deal', 't1', [{ type: 'delete', id: 'b' }]);
        return [mid, await tx.aggregate('deal', 't1', board('p1'))];
      });
      expect(seen).toEqual([
        [
          { group: { stageKey: 'new', 'value.currency': 'EUR' }, values: { count: 1, amount: 20, weighted: 10 } },
          { group: { stageKey: 'qualified', 'value.currency': 'USD' }, values: { count: 1, amount: 100, weighted: 50 } },
        ],
        [{ group: { stageKey: 'qualified', 'value.currency': 'USD' }, values: { count: 1, amount: 100, weighted: 50 } }],
      ]);
      await expectTotals(adapter);
    });

    it('stay exact with amounts that are not integers', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [deal('a', 'p1', 'new', 0.1), deal('b', 'p1', 'new', 0.2), deal('c', 'p1', 'new', 3)]);
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: 'a' }]));
      await expectTotals(adapter);
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: 'b' }]));
      await expectTotals(adapter);
    });

    it('count the writes of another connection (another tab or process, a sync writer) in both directions', async () => {
      const { adapter, subject } = await h.open();
      const peer = await h.openPeer(subject);
      if (!peer) return;
      await seed(adapter, 'deal', [deal('a', 'p1', 'new', 100)]);
      await seed(peer, 'deal', [deal('b', 'p1', 'new', 30, 'USD')]);
      await peer.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: deal('a', 'p1', 'qualified', 100, 'EUR', 2), expectedVersion: 1 }]));
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: deal('b', 'p1', 'won', 30, 'USD', 2), expectedVersion: 1 }]));
      await Promise.all([seed(adapter, 'deal', [deal('c', 'p1', 'new', 1)]), seed(peer, 'deal', [deal('d', 'p1', 'new', 2)])]);
      await expectTotals(adapter);
      await expectTotals(peer);
    });

    it('equal a scan after any sequence of writes, rollbacks included (property)', async () => {
      const { adapter } = await h.open();
      let n = 0;
      const step = fc.record({
        id: fc.constantFrom('a', 'b', 'c', 'd'),
        kind: fc.constantFrom('put', 'put', 'delete'),
        pipelineId: fc.constantFrom('p1', 'p2'),
        stageKey: fc.constantFrom(...STAGES),
        currency: fc.constantFrom(...CURRENCIES),
        amount: fc.option(fc.integer({ min: -1_000, max: 1_000_000 }), { nil: undefined }),
        rollback: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          const tenant = `prop${++n}`;
          for (const s of steps) {
            const transaction = adapter.transaction('rw', async (tx) => {
              const [current] = await tx.getMany('deal', tenant, [s.id]);
              const next = { ...deal(s.id, s.pipelineId, s.stageKey, s.amount, s.currency, (current?.version ?? 0) + 1), tenantId: tenant };
              const op: WriteOp | undefined =
                s.kind === 'delete' ? (current ? { type: 'delete', id: s.id } : undefined) : current ? { type: 'update', row: next, expectedVersion: current.version } : { type: 'insert', row: next };
              if (op) await tx.write('deal', tenant, [op]);
              if (s.rollback) throw new Error('rollback');
            });
            if (s.rollback) await rejection(transaction);
            else await transaction;
          }
          const rows = await adapter.transaction('r', async (tx) => (await tx.query('deal', tenant, {})).rows);
          for (const spec of shapes('p1')) {
            const actual = await adapter.transaction('r', (tx) => tx.aggregate('deal', tenant, spec));
            const expected = executeAggregate(rows, spec);
            if (!closeEnough(actual, expected)) expect(actual).toEqual(expected);
          }
        }),
        { numRuns: Math.max(10, Math.floor(h.options.numRuns / 3)) },
      );
    });
  });
}

import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import { CRM_STORAGE_SCHEMA } from '../../storage/crm-schema.js';
import { executeAggregate, executeQuery } from '../../query/execute.js';
import type { AggregateSpec, QuerySpec } from '../../query/query-spec.js';
import type { Row, RuntimeIndexSpec, StorageAdapter } from '../../storage/storage-adapter.js';
import type { FieldType } from '../../storage/storage-schema.js';
import { closeEnough, dealRow, readAll, rejection, seed, type Harness } from './harness.js';

const TYPES: Record<string, FieldType> = { 'custom.region': 'string', 'custom.score': 'number', 'custom.vip': 'boolean', 'custom.budget.amount': 'number' };
const INDEXES: RuntimeIndexSpec[] = [
  { entity: 'deal', field: 'custom.region', type: 'string' },
  { entity: 'deal', field: 'custom.score', type: 'number' },
  { entity: 'deal', field: 'custom.vip', type: 'boolean' },
  { entity: 'deal', field: 'custom.budget.amount', type: 'number' },
];

const regions = ['north', 'south', 'east', 'Ünter', 'west', '', 'n'];

/**
 * Rows whose custom values include missing ones and nulls (services keep values to the field's type, so
 * no row holds a value of another type).
 */
function rows(prefix: string, count: number): Row[] {
  return Array.from({ length: count }, (_, i) =>
    dealRow(`${prefix}${String(i).padStart(3, '0')}`, {
      title: `Deal ${i}`,
      value: { amount: i * 10, currency: 'EUR' },
      custom: {
        ...(i % 7 === 3 ? {} : { region: i % 11 === 5 ? null : regions[i % regions.length] }),
        ...(i % 5 === 0 ? { score: null } : { score: (i * 37) % 23 }),
        ...(i % 3 ? { vip: i % 2 === 0 } : {}),
        ...(i % 4 ? { budget: { amount: (i * 13) % 50, currency: 'EUR' } } : {}),
      },
    }),
  );
}

const queries: QuerySpec[] = [
  { filter: { op: 'eq', field: 'custom.region', value: 'north' }, sort: [{ field: 'id' }] },
  { filter: { op: 'in', field: 'custom.region', values: ['south', 'Ünter', null] } },
  { filter: { op: 'prefix', field: 'custom.region', value: 'n' }, sort: [{ field: 'custom.region', direction: 'desc' }] },
  { filter: { op: 'and', filters: [{ op: 'gte', field: 'custom.score', value: 5 }, { op: 'lt', field: 'custom.score', value: 12 }] }, sort: [{ field: 'custom.score' }], limit: 7 },
  { filter: { op: 'eq', field: 'custom.vip', value: true }, sort: [{ field: 'custom.budget.amount', direction: 'desc' }], limit: 5 },
  { sort: [{ field: 'custom.region' }, { field: 'custom.score', direction: 'desc' }], limit: 9 },
  { filter: { op: 'gt', field: 'custom.budget.amount', value: 20 }, sort: [{ field: 'custom.budget.amount' }] },
];

const aggregates: AggregateSpec[] = [
  { groupBy: ['custom.region'], metrics: { n: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' } } },
  { filter: { op: 'eq', field: 'custom.vip', value: false }, groupBy: ['custom.score'], metrics: { n: { fn: 'count' } } },
  { groupBy: ['custom.vip'], metrics: { top: { fn: 'max', field: 'custom.budget.amount' }, n: { fn: 'count' } } },
];

/** Every query, with all its pages, and every aggregate agree with the reference over the stored rows. */
async function expectReference(adapter: StorageAdapter): Promise<void> {
  const stored = await readAll(adapter, 'deal');
  for (const query of queries) {
    const spec = { ...query, customTypes: TYPES };
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page: { rows: Row[]; nextCursor?: string } = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { ...spec, ...(after ? { after } : {}) }));
      ids.push(...page.rows.map((r) => r.id));
      after = page.nextCursor;
    } while (after);
    expect(ids).toEqual(executeQuery(stored, { ...spec, limit: undefined } as QuerySpec).rows.map((r) => r.id));
  }
  for (const aggregate of aggregates) {
    const spec = { ...aggregate, customTypes: TYPES };
    const actual = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', spec));
    const expected = executeAggregate(stored, spec);
    if (!closeEnough(actual, expected)) expect(actual).toEqual(expected);
  }
}

/**
 * Runtime indexes (`ensureIndexes`, custom fields with `indexed: true`): created after `open`, durable,
 * idempotent, seen by other connections, and never changing an answer.
 */
export function runtimeIndexTests(h: Harness): void {
  describe('runtime indexes (ensureIndexes)', () => {
    it('rejects specs that are not an entity, a custom path and a scalar type with VALIDATION', async () => {
      const { adapter } = await h.open();
      const bad: unknown[] = [
        [{ entity: 'nope', field: 'custom.x', type: 'string' }],
        [{ entity: 'deal', field: 'title', type: 'string' }],
        [{ entity: 'deal', field: 'custom.x; DROP TABLE deal', type: 'string' }],
        [{ entity: 'deal', field: 'custom.tags', type: 'string[]' }],
        [null],
        'custom.x',
      ];
      for (const specs of bad) {
        const error = await rejection(adapter.ensureIndexes(specs as RuntimeIndexSpec[]));
        expect(isCrmError(error, 'VALIDATION')).toBe(true);
      }
    });

    it('indexes rows stored before and after, and changes no answer', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', rows('a', 60));
      await adapter.ensureIndexes(INDEXES);
      await adapter.ensureIndexes(INDEXES); // idempotent
      await expectReference(adapter);
      const later = rows('b', 30);
      await seed(adapter, 'deal', later);
      await adapter.transaction('rw', (tx) =>
        tx.write('deal', 't1', [
          { type: 'update', row: { ...later[0]!, version: 2, custom: { region: 'north', score: 1, vip: true } }, expectedVersion: 1 },
          { type: 'update', row: { ...later[1]!, version: 2, custom: {} }, expectedVersion: 1 },
          { type: 'delete', id: later[2]!.id },
        ]),
      );
      await expectReference(adapter);
    });

    it('follows a field redefined with another type: queries of either type agree with the reference, before and after a reopen', async () => {
      const { adapter, subject } = await h.open();
      // `custom.code` as text in one tenant, as a number in another (services keep stored values to the
      // field's current type): the index follows the type it was last ensured with, answers never change.
      const text = Array.from({ length: 30 }, (_, i) => dealRow(`s${String(i).padStart(2, '0')}`, { custom: i % 7 === 0 ? {} : { code: ['x', 'y', 'z'][i % 3] } }, 'tt'));
      const numbers = Array.from({ length: 30 }, (_, i) => dealRow(`n${String(i).padStart(2, '0')}`, { custom: i % 6 === 0 ? {} : { code: (i * 7) % 10 } }, 'tn'));
      await seed(adapter, 'deal', text, 'tt');
      await adapter.ensureIndexes([{ entity: 'deal', field: 'custom.code', type: 'string' }]);
      await seed(adapter, 'deal', numbers, 'tn');
      const checks = async (a: StorageAdapter) => {
        const cases: [string, FieldType, QuerySpec[]][] = [
          ['tt', 'string', [{ filter: { op: 'in', field: 'custom.code', values: ['y', 'z', null] } }, { sort: [{ field: 'custom.code', direction: 'desc' }], limit: 100 }]],
          ['tn', 'number', [{ filter: { op: 'gte', field: 'custom.code', value: 4 }, sort: [{ field: 'custom.code', direction: 'desc' }] }, { sort: [{ field: 'custom.code' }], limit: 100 }]],
        ];
        for (const [tenant, type, specs] of cases) {
          const stored = await readAll(a, 'deal', tenant);
          const customTypes = { 'custom.code': type };
          for (const spec of specs) {
            const { rows: got } = await a.transaction('r', (tx) => tx.query('deal', tenant, { ...spec, customTypes }));
            expect(got.map((r) => r.id)).toEqual(executeQuery(stored, { ...spec, customTypes }).rows.map((r) => r.id));
          }
          const spec: AggregateSpec = { groupBy: ['custom.code'], metrics: { n: { fn: 'count' } }, customTypes };
          expect(await a.transaction('r', (tx) => tx.aggregate('deal', tenant, spec))).toEqual(executeAggregate(stored, spec));
        }
      };
      await checks(adapter);
      await adapter.ensureIndexes([{ entity: 'deal', field: 'custom.code', type: 'number' }]);
      await checks(adapter);
      await adapter.ensureIndexes([{ entity: 'deal', field: 'custom.code', type: 'string' }]); // and back
      await checks(adapter);
      await adapter.ensureIndexes([{ entity: 'deal', field: 'custom.code', type: 'number' }]);
      if (!subject.reopen) return;
      await adapter.close();
      const again = await subject.reopen();
      try {
        await again.open(CRM_STORAGE_SCHEMA);
        await checks(again);
      } finally {
        await again.close();
      }
    });

    it('is durable and used by every connection: one opened before, and one opened after', async () => {
      const { adapter, subject } = await h.open();
      const peer = await h.openPeer(subject);
      await seed(adapter, 'deal', rows('a', 40));
      await adapter.ensureIndexes(INDEXES.slice(0, 2));
      if (peer) {
        await seed(peer, 'deal', rows('p', 20));
        await expectReference(peer);
        await peer.ensureIndexes(INDEXES); // adds the rest from the other side
      }
      await expectReference(adapter);
      if (!subject.reopen) return;
      await adapter.close();
      const again = await subject.reopen();
      try {
        await again.open(CRM_STORAGE_SCHEMA);
        await expectReference(again);
        await again.ensureIndexes(INDEXES);
        await expectReference(again);
      } finally {
        await again.close();
      }
    });
  });
}

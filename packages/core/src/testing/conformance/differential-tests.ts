import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executeAggregate, executeQuery } from '../../query/execute.js';
import type { QuerySpec } from '../../query/query-spec.js';
import type { Row, StorageAdapter } from '../../storage/storage-adapter.js';
import { differentialAggregateArb, differentialDatasetArb, differentialQueryArb } from '../query-arbitraries.js';
import { closeEnough, type Harness } from './harness.js';

async function reset(adapter: StorageAdapter, rows: readonly Row[]): Promise<void> {
  await adapter.transaction('rw', async (tx) => {
    const { rows: existing } = await tx.query('deal', 'diff', {});
    if (existing.length) await tx.write('deal', 'diff', existing.map((r) => ({ type: 'delete' as const, id: r.id })));
    if (rows.length) await tx.write('deal', 'diff', rows.map((row) => ({ type: 'insert' as const, row })));
  });
}

/** Random datasets and random queries: every adapter must give exactly what the reference gives. */
export function differentialTests(h: Harness): void {
  describe('differential against the reference (property-based)', () => {
    it(
      'queries return the same rows in the same order, with the same pages',
      async () => {
        const { adapter } = await h.open();
        await fc.assert(
          fc.asyncProperty(differentialDatasetArb('diff'), fc.array(differentialQueryArb, { minLength: 1, maxLength: 4 }), async (rows, queries) => {
            await reset(adapter, rows);
            for (const spec of queries) {
              const expected = executeQuery(rows, spec);
              const actual = await adapter.transaction('r', (tx) => tx.query('deal', 'diff', spec));
              expect(actual.rows.map((r) => r.id)).toEqual(expected.rows.map((r) => r.id));
              expect(actual.rows).toEqual(expected.rows);
              expect(actual.nextCursor === undefined).toBe(expected.nextCursor === undefined);
              // Walk the remaining pages: together they must equal the unpaginated answer.
              const seen = actual.rows.map((r) => r.id);
              let after = actual.nextCursor;
              while (after) {
                const page: { rows: Row[]; nextCursor?: string } = await adapter.transaction('r', (tx) => tx.query('deal', 'diff', { ...spec, after }));
                seen.push(...page.rows.map((r) => r.id));
                after = page.nextCursor;
              }
              const full = executeQuery(rows, { ...spec, limit: undefined } as QuerySpec);
              expect(seen).toEqual(full.rows.map((r) => r.id));
            }
          }),
          { numRuns: h.options.numRuns },
        );
      },
      h.options.timeout * 4,
    );

    it(
      'aggregates give the same groups and metrics',
      async () => {
        const { adapter } = await h.open();
        await fc.assert(
          fc.asyncProperty(differentialDatasetArb('diff'), fc.array(differentialAggregateArb, { minLength: 1, maxLength: 3 }), async (rows, specs) => {
            await reset(adapter, rows);
            for (const spec of specs) {
              const expected = executeAggregate(rows, spec);
              const actual = await adapter.transaction('r', (tx) => tx.aggregate('deal', 'diff', spec));
              if (!closeEnough(actual, expected)) expect(actual).toEqual(expected);
            }
          }),
          { numRuns: h.options.numRuns },
        );
      },
      h.options.timeout * 4,
    );
  });
}

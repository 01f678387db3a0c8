import fc from 'fast-check';
import type { AggregateMetric, AggregateSpec, Filter, QuerySpec, Scalar, SortSpec } from '../query/query-spec.js';
import type { Row } from '../storage/storage-adapter.js';
import type { FieldType } from '../storage/storage-schema.js';

/**
 * Small value domains so that random filters match some rows and sorts produce ties: the
 * differential tests compare adapters with the reference on data where the edge cases happen.
 */
const STRINGS = ['', 'a', 'A', 'ab', 'b', 'B', 'ba', 'é', 'e', 'z', '%', 'a_b', "o'k", 'x"y', '\\', 'Ω', '日本', '🙂', 'a b'];
const NUMBERS = [-2.5, -1, 0, 0.5, 1, 2, 3, 10, 1e6];
const DATES = ['2026-01-01', '2026-01-15', '2026-02-01', '2026-12-31'];
const LIST = ['a', 'b', 'c', 'd'];

interface CatalogField {
  readonly field: string;
  readonly type: FieldType;
  readonly value: fc.Arbitrary<Scalar>;
}

/** The deal fields the differential test uses: declared columns and custom (JSON) fields of every type. */
export const DIFFERENTIAL_FIELDS: readonly CatalogField[] = [
  { field: 'stageKey', type: 'string', value: fc.constantFrom('new', 'qualified', 'proposal', 'won') },
  { field: 'status', type: 'string', value: fc.constantFrom('open', 'won', 'lost') },
  { field: 'ownerId', type: 'string', value: fc.constantFrom('u1', 'u2', 'u3') },
  { field: 'title', type: 'string', value: fc.constantFrom(...STRINGS) },
  { field: 'value.amount', type: 'number', value: fc.constantFrom(...NUMBERS) },
  { field: 'probability', type: 'number', value: fc.constantFrom(0, 10, 50, 90, 100) },
  { field: 'probabilityManual', type: 'boolean', value: fc.boolean() },
  { field: 'expectedCloseDate', type: 'string', value: fc.constantFrom(...DATES) },
  { field: 'tags', type: 'string[]', value: fc.constantFrom(...LIST) },
  { field: 'custom.tier', type: 'string', value: fc.constantFrom('gold', 'silver', 'bronze', 'Gold') },
  { field: 'custom.score', type: 'number', value: fc.constantFrom(...NUMBERS) },
  { field: 'custom.vip', type: 'boolean', value: fc.boolean() },
  { field: 'custom.labels', type: 'string[]', value: fc.constantFrom(...LIST) },
  { field: 'custom.budget.amount', type: 'number', value: fc.constantFrom(...NUMBERS) },
];

/** Types of the custom paths, as core passes them in `customTypes`. */
export const DIFFERENTIAL_CUSTOM_TYPES: Readonly<Record<string, FieldType>> = Object.fromEntries(
  DIFFERENTIAL_FIELDS.filter((f) => f.field.startsWith('custom.')).map((f) => [f.field, f.type]),
);

const scalarFields = DIFFERENTIAL_FIELDS.filter((f) => f.type !== 'string[]');
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });
const listArb = fc.uniqueArray(fc.constantFrom(...LIST), { maxLength: 3 });

/** A deal-shaped row whose fields come from the small domains, each field sometimes missing. */
export function differentialRowArb(tenantId: string): fc.Arbitrary<Omit<Row, 'id'>> {
  return fc
    .record({
      stageKey: optional(fc.constantFrom('new', 'qualified', 'proposal', 'won')),
      status: optional(fc.constantFrom('open', 'won', 'lost')),
      ownerId: optional(fc.constantFrom('u1', 'u2', 'u3')),
      title: optional(fc.constantFrom(...STRINGS)),
      amount: optional(fc.constantFrom(...NUMBERS)),
      probability: optional(fc.constantFrom(0, 10, 50, 90, 100)),
      probabilityManual: optional(fc.boolean()),
      expectedCloseDate: optional(fc.constantFrom(...DATES)),
      tags: optional(listArb),
      tier: optional(fc.constantFrom('gold', 'silver', 'bronze', 'Gold')),
      score: optional(fc.constantFrom(...NUMBERS)),
      vip: optional(fc.boolean()),
      labels: optional(listArb),
      budget: optional(fc.constantFrom(...NUMBERS)),
    })
    .map(({ amount, tier, score, vip, labels, budget, ...top }) => {
      const custom: Record<string, unknown> = {};
      if (tier !== undefined) custom.tier = tier;
      if (score !== undefined) custom.score = score;
      if (vip !== undefined) custom.vip = vip;
      if (labels !== undefined) custom.labels = labels;
      if (budget !== undefined) custom.budget = { amount: budget, currency: 'EUR' };
      const row: Record<string, unknown> = { tenantId, version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', custom };
      for (const [k, v] of Object.entries(top)) if (v !== undefined) row[k] = v;
      if (amount !== undefined) row.value = { amount, currency: 'EUR' };
      return row as Omit<Row, 'id'>;
    });
}

/** A dataset of rows with unique ids (ids also drawn so that sort ties break on them). */
export function differentialDatasetArb(tenantId: string, maxRows = 40): fc.Arbitrary<Row[]> {
  return fc
    .uniqueArray(fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,6}$/), { minLength: 0, maxLength: maxRows })
    .chain((ids) => fc.tuple(...ids.map(() => differentialRowArb(tenantId))).map((rows) => rows.map((r, i) => ({ ...r, id: ids[i]! }) as Row)));
}

function leafArb(field: (typeof DIFFERENTIAL_FIELDS)[number]): fc.Arbitrary<Filter> {
  const { field: name, type, value } = field;
  if (type === 'string[]') {
    return fc.uniqueArray(value as fc.Arbitrary<string>, { minLength: 0, maxLength: 3 }).map((values) => ({ op: 'containsAny', field: name, values }));
  }
  const nullable = fc.option(value, { nil: null, freq: 5 });
  const options: fc.Arbitrary<Filter>[] = [
    nullable.map((v) => ({ op: 'eq', field: name, value: v })),
    fc.array(nullable, { maxLength: 3 }).map((values) => ({ op: 'in', field: name, values })),
  ];
  if (type !== 'boolean') {
    options.push(
      fc.tuple(fc.constantFrom('lt', 'lte', 'gt', 'gte' as const), value).map(([op, v]) => ({ op, field: name, value: v as string | number }) as Filter),
    );
  }
  if (type === 'string') {
    options.push(
      // Cut at code point boundaries: half a surrogate pair is no valid filter value.
      (value as fc.Arbitrary<string>).chain((v) => fc.integer({ min: 0, max: [...v].length }).map((n) => ({ op: 'prefix' as const, field: name, value: [...v].slice(0, n).join('') }))),
    );
  }
  return fc.oneof(...options);
}

/** Random filter trees over the differential fields, up to three levels of and/or. */
export const differentialFilterArb: fc.Arbitrary<Filter> = fc.letrec<{ filter: Filter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...DIFFERENTIAL_FIELDS).chain(leafArb),
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), filters: fc.array(tie('filter'), { maxLength: 3 }) }),
  ),
})).filter;

/** Random sort lists over the scalar differential fields (and sometimes `id`). */
export const differentialSortArb: fc.Arbitrary<SortSpec[]> = fc.uniqueArray(
  fc.record({ field: fc.constantFrom('id', ...scalarFields.map((f) => f.field)), direction: fc.constantFrom('asc' as const, 'desc' as const) }),
  { maxLength: 3, selector: (s) => s.field },
);

/** A random query without a cursor. */
export const differentialQueryArb: fc.Arbitrary<QuerySpec> = fc.record(
  { filter: differentialFilterArb, sort: differentialSortArb, limit: fc.integer({ min: 1, max: 15 }) },
  { requiredKeys: [] },
).map((q) => ({ ...q, customTypes: DIFFERENTIAL_CUSTOM_TYPES }));

const numericFields = scalarFields.filter((f) => f.type === 'number').map((f) => f.field);
const orderedFields = scalarFields.filter((f) => f.type !== 'boolean').map((f) => f.field);

/** A random aggregate: group by up to two fields, with count and number/text metrics. */
export const differentialAggregateArb: fc.Arbitrary<AggregateSpec> = fc
  .record({
    filter: fc.option(differentialFilterArb, { nil: undefined }),
    groupBy: fc.uniqueArray(fc.constantFrom(...scalarFields.map((f) => f.field)), { maxLength: 2 }),
    sum: fc.constantFrom(...numericFields),
    avg: fc.constantFrom(...numericFields),
    median: fc.constantFrom(...numericFields),
    min: fc.constantFrom(...orderedFields),
    max: fc.constantFrom(...orderedFields),
    countWhere: differentialFilterArb,
    sumWhere: differentialFilterArb,
    medianWhere: fc.option(differentialFilterArb, { nil: undefined }),
  })
  .map(({ filter, groupBy, sum, avg, median, min, max, countWhere, sumWhere, medianWhere }) => {
    const metrics: Record<string, AggregateMetric> = {
      n: { fn: 'count' },
      some: { fn: 'count', where: countWhere },
      total: { fn: 'sum', field: sum },
      partial: { fn: 'sum', field: sum, where: sumWhere },
      mean: { fn: 'avg', field: avg },
      middle: { fn: 'median', field: median, ...(medianWhere ? { where: medianWhere } : {}) },
      lowest: { fn: 'min', field: min },
      highest: { fn: 'max', field: max },
    };
    return { ...(filter ? { filter } : {}), groupBy, metrics, customTypes: DIFFERENTIAL_CUSTOM_TYPES };
  });

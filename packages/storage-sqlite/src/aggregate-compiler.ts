import type { AggregateRow, AggregateSpec, Scalar } from '@crmkit/core';
import { sql } from 'kysely';
import { compileFilter } from './filter-compiler.js';
import { resolveScalar, type ResolveContext } from './field-resolver.js';
import type { SqlQuery } from './query-compiler.js';
import { col, type SqlFragment } from './sql-dialect.js';
import { invalidInput } from './storage-errors.js';
import type { ScalarType } from './table-layout.js';

type MetricReader = (value: unknown) => number | string | null;

/** A compiled aggregate and how to turn its result rows (arrays: group keys, then metrics) into `AggregateRow`s. */
export interface CompiledAggregate {
  readonly query: SqlQuery;
  /** One window-function query per `median` metric (rows: group keys, then the median). */
  readonly medianQueries: readonly SqlQuery[];
  readonly read: (rows: readonly (readonly unknown[])[], medianRows?: readonly (readonly (readonly unknown[])[])[]) => AggregateRow[];
}

/**
 * Compiles an `AggregateSpec` to one GROUP BY query that agrees with core's `executeAggregate`:
 * `count` is `COUNT(*)`, `sum` of nothing is 0, `avg`/`min`/`max` of nothing are NULL, NULLs are ignored
 * by every metric but `count`, groups come ordered by their keys ascending with NULL first, and without
 * `groupBy` exactly one row comes back even when nothing matches. Output columns are positional
 * (`g0…`, `m0…`): metric names never reach the SQL text. `median` has no SQL aggregate: each runs as its
 * own query that ranks the values of every group with window functions and averages the middle one or two.
 *
 * @throws CrmError `VALIDATION` for unknown fields or metrics that do not fit the field type.
 */
export function compileAggregate(ctx: ResolveContext, spec: AggregateSpec): CompiledAggregate {
  const { dialect } = ctx;
  const groupBy = spec.groupBy ?? [];
  if (!Array.isArray(groupBy)) throw invalidInput(ctx.context, ['groupBy'], 'invalid_type', 'must be an array');
  const groups = groupBy.map((field, i) => resolveScalar(ctx, field, ['groupBy', i]));
  if (typeof spec.metrics !== 'object' || spec.metrics === null) throw invalidInput(ctx.context, ['metrics'], 'invalid_type', 'must be an object');
  const metricEntries = Object.entries(spec.metrics);
  if (metricEntries.length === 0) throw invalidInput(ctx.context, ['metrics'], 'invalid_type', 'must name at least one metric');

  const selects: SqlFragment[] = groups.map((g, i) => sql`${g.expr} AS ${sql.id(`g${i}`)}`);
  const readers: MetricReader[] = [];
  const conditions: SqlFragment[] = [sql`${col('tenant_id')} = ${ctx.tenantId}`];
  const filter = compileFilter(ctx, spec.filter);
  if (filter) conditions.push(filter);
  const medians: { index: number; query: SqlQuery }[] = [];
  metricEntries.forEach(([name, metric], i) => {
    const alias = sql.id(`m${i}`);
    const path = ['metrics', name];
    if (metric?.fn === 'count') {
      selects.push(sql`COUNT(*) AS ${alias}`);
      readers.push((v) => dialect.readNumber(v) ?? 0);
      return;
    }
    const fn = metric?.fn;
    if (fn !== 'sum' && fn !== 'avg' && fn !== 'min' && fn !== 'max' && fn !== 'median') {
      throw invalidInput(ctx.context, [...path, 'fn'], 'invalid_value', 'must be one of count, sum, avg, min, max, median');
    }
    const field = resolveScalar(ctx, metric.field, [...path, 'field']);
    const type: ScalarType = field.type;
    if ((fn === 'sum' || fn === 'avg' || fn === 'median') && type !== 'number') throw invalidInput(ctx.context, [...path, 'field'], 'invalid_op', `${fn} needs a number field`);
    if (fn === 'median') {
      // Placeholder column keeps positions; the value comes from the median query.
      selects.push(sql`COUNT(*) AS ${alias}`);
      readers.push(() => null);
      const partition = groups.length ? sql`PARTITION BY ${sql.join(groups.map((g) => g.expr))} ` : sql``;
      const ranked = sql`SELECT ${sql.join([
        ...groups.map((g, j) => sql`${g.expr} AS ${sql.id(`g${j}`)}`),
        sql`${field.expr} AS "v"`,
        sql`ROW_NUMBER() OVER (${partition}ORDER BY ${field.expr}) AS "rn"`,
        sql`COUNT(*) OVER (${partition}) AS "cnt"`,
      ])} FROM ${dialect.table(ctx.table.table)} AS "t" WHERE ${sql.join([...conditions, sql`${field.expr} IS NOT NULL`], sql` AND `)}`;
      const keys = groups.map((_, j) => sql.id(`g${j}`));
      const outer = sql`SELECT ${sql.join([...keys, sql`AVG("v") AS "m"`])} FROM (${ranked}) AS "r" WHERE "rn" * 2 IN ("cnt", "cnt" + 1, "cnt" + 2)${groups.length ? sql` GROUP BY ${sql.join(keys)}` : sql``}`;
      medians.push({ index: i, query: outer.compile(dialect.kysely) });
      return;
    }
    if ((fn === 'min' || fn === 'max') && type === 'boolean') throw invalidInput(ctx.context, [...path, 'field'], 'invalid_op', `${fn} needs a number or text field`);
    if (fn === 'sum') {
      selects.push(sql`${dialect.sum(field.expr)} AS ${alias}`);
      readers.push((v) => dialect.readNumber(v) ?? 0);
    } else if (fn === 'avg') {
      selects.push(sql`AVG(${field.expr}) AS ${alias}`);
      readers.push((v) => dialect.readNumber(v));
    } else {
      selects.push(fn === 'min' ? sql`MIN(${field.expr}) AS ${alias}` : sql`MAX(${field.expr}) AS ${alias}`);
      readers.push((v) => dialect.readScalar(v, type) as number | string | null);
    }
  });

  const grouping = groups.length
    ? sql` GROUP BY ${sql.join(groups.map((_, i) => sql.id(`g${i}`)))} ORDER BY ${sql.join(groups.map((_, i) => dialect.orderTerm(sql.id(`g${i}`), 'asc')))}`
    : sql``;
  const query = sql`SELECT ${sql.join(selects)} FROM ${dialect.table(ctx.table.table)} AS "t" WHERE ${sql.join(conditions, sql` AND `)}${grouping}`.compile(dialect.kysely);

  const names = metricEntries.map(([name]) => name);
  const groupKey = (row: readonly unknown[]) => JSON.stringify(groups.map((g, i) => dialect.readScalar(row[i], g.type)));
  return {
    query,
    medianQueries: medians.map((m) => m.query),
    read: (rows, medianRows = []) => {
      const medianByGroup = medians.map((_, k) => new Map((medianRows[k] ?? []).map((r) => [groupKey(r), dialect.readNumber(r[groups.length])])));
      return rows.map((row) => {
        const group: Record<string, Scalar | null> = {};
        groups.forEach((g, i) => (group[g.field] = dialect.readScalar(row[i], g.type)));
        const values: Record<string, number | string | null> = {};
        names.forEach((name, i) => (values[name] = readers[i]!(row[groups.length + i])));
        medians.forEach((m, k) => (values[names[m.index]!] = medianByGroup[k]!.get(groupKey(row)) ?? null));
        return { group, values };
      });
    },
  };
}

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
  readonly read: (rows: readonly (readonly unknown[])[]) => AggregateRow[];
}

/**
 * Compiles an `AggregateSpec` to one GROUP BY query that agrees with core's `executeAggregate`:
 * `count` is `COUNT(*)`, `sum` of nothing is 0, `avg`/`min`/`max` of nothing are NULL, NULLs are ignored
 * by every metric but `count`, groups come ordered by their keys ascending with NULL first, and without
 * `groupBy` exactly one row comes back even when nothing matches. Output columns are positional
 * (`g0…`, `m0…`): metric names never reach the SQL text. `median` has no SQL aggregate: the statement
 * then ranks each median field within its group with window functions in a CTE and averages the middle
 * one or two values, still in one statement.
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

  const conditions: SqlFragment[] = [sql`${col('tenant_id')} = ${ctx.tenantId}`];
  const filter = compileFilter(ctx, spec.filter);
  if (filter) conditions.push(filter);

  // Resolve and check every metric first.
  type Condition = { where?: SqlFragment };
  type Resolved = ({ fn: 'count' } | { fn: 'sum' | 'avg' | 'min' | 'max' | 'median'; field: ReturnType<typeof resolveScalar> }) & Condition;
  const resolved: Resolved[] = metricEntries.map(([name, metric]) => {
    const path = ['metrics', name];
    // A metric's own filter (SQL FILTER (WHERE …)), as a CASE inside its aggregate.
    const where = metric?.where === undefined ? undefined : compileFilter(ctx, metric.where);
    const condition: Condition = where ? { where } : {};
    if (metric?.fn === 'count') return { fn: 'count', ...condition };
    const fn = metric?.fn;
    if (fn !== 'sum' && fn !== 'avg' && fn !== 'min' && fn !== 'max' && fn !== 'median') {
      throw invalidInput(ctx.context, [...path, 'fn'], 'invalid_value', 'must be one of count, sum, avg, min, max, median');
    }
    const field = resolveScalar(ctx, metric.field, [...path, 'field']);
    if ((fn === 'sum' || fn === 'avg' || fn === 'median') && field.type !== 'number') throw invalidInput(ctx.context, [...path, 'field'], 'invalid_op', `${fn} needs a number field`);
    if ((fn === 'min' || fn === 'max') && field.type === 'boolean') throw invalidInput(ctx.context, [...path, 'field'], 'invalid_op', `${fn} needs a number or text field`);
    return { fn, field, ...condition };
  });
  const hasMedian = resolved.some((m) => m.fn === 'median');

  // Without medians: one GROUP BY over the table. With medians: one statement too — a CTE ranks each
  // median field within its group (window functions), the outer GROUP BY averages the middle value(s).
  /** The value a metric aggregates, NULL outside its own filter (a count counts 1s). */
  const rawValue = (metric: Resolved): SqlFragment => {
    const expr = metric.fn === 'count' ? sql`1` : metric.field.expr;
    return metric.where ? sql`CASE WHEN ${metric.where} THEN ${expr} END` : expr;
  };
  const valueOf = (i: number): SqlFragment => (hasMedian ? sql.id(`c${i}`) : rawValue(resolved[i]!));
  const groupRef = (i: number): SqlFragment => (hasMedian ? sql.id(`g${i}`) : groups[i]!.expr);
  const selects: SqlFragment[] = groups.map((_, i) => sql`${groupRef(i)} AS ${sql.id(`g${i}`)}`);
  const readers: MetricReader[] = [];
  resolved.forEach((metric, i) => {
    const alias = sql.id(`m${i}`);
    if (metric.fn === 'count') {
      selects.push(metric.where ? sql`COUNT(${valueOf(i)}) AS ${alias}` : sql`COUNT(*) AS ${alias}`);
      readers.push((v) => dialect.readNumber(v) ?? 0);
    } else if (metric.fn === 'sum') {
      selects.push(sql`${dialect.sum(valueOf(i))} AS ${alias}`);
      readers.push((v) => dialect.readNumber(v) ?? 0);
    } else if (metric.fn === 'avg') {
      selects.push(sql`AVG(${valueOf(i)}) AS ${alias}`);
      readers.push((v) => dialect.readNumber(v));
    } else if (metric.fn === 'median') {
      const [rn, cnt] = [sql.id(`r${i}`), sql.id(`n${i}`)];
      selects.push(sql`AVG(CASE WHEN ${valueOf(i)} IS NOT NULL AND ${rn} * 2 IN (${cnt}, ${cnt} + 1, ${cnt} + 2) THEN ${valueOf(i)} END) AS ${alias}`);
      readers.push((v) => dialect.readNumber(v));
    } else {
      const type: ScalarType = metric.field.type;
      selects.push(metric.fn === 'min' ? sql`MIN(${valueOf(i)}) AS ${alias}` : sql`MAX(${valueOf(i)}) AS ${alias}`);
      readers.push((v) => dialect.readScalar(v, type) as number | string | null);
    }
  });

  const ordering = groups.length
    ? sql` GROUP BY ${sql.join(groups.map((_, i) => sql.id(`g${i}`)))} ORDER BY ${sql.join(groups.map((_, i) => dialect.orderTerm(sql.id(`g${i}`), 'asc')))}`
    : sql``;
  let statement: SqlFragment;
  if (!hasMedian) {
    statement = sql`SELECT ${sql.join(selects)} FROM ${dialect.table(ctx.table.table)} AS "t" WHERE ${sql.join(conditions, sql` AND `)}${ordering}`;
  } else {
    const partition = groups.length ? sql`PARTITION BY ${sql.join(groups.map((g) => g.expr))} ` : sql``;
    const inner: SqlFragment[] = groups.map((g, i) => sql`${g.expr} AS ${sql.id(`g${i}`)}`);
    resolved.forEach((metric, i) => {
      if (metric.fn === 'count' && !metric.where) return;
      const value = rawValue(metric);
      inner.push(sql`${value} AS ${sql.id(`c${i}`)}`);
      if (metric.fn === 'median') {
        // Missing values rank last, so the present ones are numbered 1…n.
        inner.push(sql`ROW_NUMBER() OVER (${partition}ORDER BY (${value} IS NULL), ${value}) AS ${sql.id(`r${i}`)}`);
        inner.push(sql`COUNT(${value}) OVER (${partition}) AS ${sql.id(`n${i}`)}`);
      }
    });
    const ranked = sql`SELECT ${sql.join(inner)} FROM ${dialect.table(ctx.table.table)} AS "t" WHERE ${sql.join(conditions, sql` AND `)}`;
    statement = sql`WITH "b" AS (${ranked}) SELECT ${sql.join(selects)} FROM "b"${ordering}`;
  }
  const query = statement.compile(dialect.kysely);

  const names = metricEntries.map(([name]) => name);
  return {
    query,
    read: (rows) =>
      rows.map((row) => {
        const group: Record<string, Scalar | null> = {};
        groups.forEach((g, i) => (group[g.field] = dialect.readScalar(row[i], g.type)));
        const values: Record<string, number | string | null> = {};
        names.forEach((name, i) => (values[name] = readers[i]!(row[groups.length + i])));
        return { group, values };
      }),
  };
}

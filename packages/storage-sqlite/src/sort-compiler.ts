import type { Scalar, SortSpec } from '@crmkit/core';
import type { CursorPosition } from '@crmkit/core/storage';
import { sql } from 'kysely';
import { resolveScalar, type ResolveContext } from './field-resolver.js';
import { col, FALSE, TRUE, type SqlFragment } from './sql-dialect.js';
import { invalidInput } from './storage-errors.js';
import type { ScalarType } from './table-layout.js';

/** One effective sort key. The list always ends with `id`, which is unique, so later keys never matter. */
export interface SortKey {
  readonly expr: SqlFragment;
  readonly type: ScalarType;
  readonly desc: boolean;
  /** Index of the key in the caller's sort (its value in the cursor), or -1 for the appended `id`. */
  readonly position: number;
}

/**
 * Resolves the sort into effective keys: the caller's keys up to and including `id`, then `id`
 * ascending when it was not among them — the reference tie-break.
 *
 * @throws CrmError `VALIDATION` for unknown, list or duplicate sort fields.
 */
export function compileSort(ctx: ResolveContext, sort: readonly SortSpec[] | undefined): SortKey[] {
  if (sort !== undefined && !Array.isArray(sort)) throw invalidInput(ctx.context, ['sort'], 'invalid_type', 'must be an array');
  const keys: SortKey[] = [];
  for (let i = 0; i < (sort?.length ?? 0); i++) {
    const spec = sort![i]!;
    const direction = spec?.direction ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') throw invalidInput(ctx.context, ['sort', i, 'direction'], 'invalid_value', 'must be "asc" or "desc"');
    const field = resolveScalar(ctx, spec?.field, ['sort', i, 'field']);
    keys.push({ expr: field.expr, type: field.type, desc: direction === 'desc', position: i });
    if (field.field === 'id') return keys;
  }
  keys.push({ expr: col('id'), type: 'string', desc: false, position: -1 });
  return keys;
}

/**
 * The ORDER BY list for the keys, with nulls first ascending and last descending.
 *
 * @param fromSideTable The filter requires a side-table match: order without the sort index, so the
 *   engine starts from the (usually few) matching ids instead of walking the index.
 */
export function orderByClause(ctx: ResolveContext, keys: readonly SortKey[], fromSideTable = false): SqlFragment {
  return sql.join(keys.map((k) => ctx.dialect.orderTerm(fromSideTable ? ctx.dialect.unindexed(k.expr) : k.expr, k.desc ? 'desc' : 'asc')));
}

/** Cursor values of another type than their field (a hand-made cursor) compare as missing. */
function positionValue(ctx: ResolveContext, key: SortKey, position: CursorPosition): unknown {
  const raw = key.position === -1 ? position.id : position.values[key.position];
  if (raw === null || raw === undefined || typeof raw !== key.type) return null;
  return ctx.dialect.param(raw as Scalar);
}

function after(ctx: ResolveContext, keys: readonly SortKey[], i: number, values: readonly unknown[]): SqlFragment {
  const key = keys[i]!;
  const v = values[i];
  const last = i === keys.length - 1;
  const tail = last ? FALSE : after(ctx, keys, i + 1, values);
  if (!key.desc) {
    // Ascending, nulls first.
    if (v === null) return last ? sql`${key.expr} IS NOT NULL` : sql`(${key.expr} IS NOT NULL OR (${key.expr} IS NULL AND ${tail}))`;
    return last ? sql`${key.expr} > ${v}` : sql`(${key.expr} > ${v} OR (${key.expr} = ${v} AND ${tail}))`;
  }
  // Descending, nulls last.
  if (v === null) return last ? FALSE : sql`(${key.expr} IS NULL AND ${tail})`;
  return last ? sql`(${key.expr} < ${v} OR ${key.expr} IS NULL)` : sql`(${key.expr} < ${v} OR ${key.expr} IS NULL OR (${key.expr} = ${v} AND ${tail}))`;
}

/**
 * The keyset condition "row comes strictly after `position`" for the effective keys, exact with NULLs
 * and mixed directions. When every key is ascending and no cursor value is NULL it is the row-value
 * comparison `(k1, …, id) > (v1, …, vid)`, which SQLite and PostgreSQL answer as an index range.
 */
export function keysetCondition(ctx: ResolveContext, keys: readonly SortKey[], position: CursorPosition): SqlFragment {
  const values = keys.map((k) => positionValue(ctx, k, position));
  if (keys.length === 0) return TRUE;
  if (keys.every((k) => !k.desc) && values.every((v) => v !== null)) {
    if (keys.length === 1) return sql`${keys[0]!.expr} > ${values[0]}`;
    return sql`(${sql.join(keys.map((k) => k.expr))}) > (${sql.join(values.map((v) => sql`${v}`))})`;
  }
  return after(ctx, keys, 0, values);
}

import type { Filter, Scalar } from '@crmkit/core';
import { sql } from 'kysely';
import { resolveField, type ResolveContext } from './field-resolver.js';
import { prefixUpperBound } from './prefix-range.js';
import { FALSE, TRUE, type SqlFragment } from './sql-dialect.js';
import { invalidInput } from './storage-errors.js';
import type { ScalarType } from './table-layout.js';

/** Deeper trees are rejected: core allows 8 levels, and recursion must stay bounded on hostile input. */
const MAX_DEPTH = 32;

type Path = readonly (string | number)[];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hintOf(value: unknown): ScalarType | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? (typeof value as ScalarType) : undefined;
}

/** Whether a filter value can equal a field of `type` (the reference compares with `===`). */
function sameType(value: unknown, type: ScalarType): value is Scalar {
  if (typeof value !== type) return false;
  return typeof value !== 'number' || Number.isFinite(value);
}

function listOf(ctx: ResolveContext, node: Record<string, unknown>, path: Path): unknown[] {
  if (!Array.isArray(node.values)) throw invalidInput(ctx.context, [...path, 'values'], 'invalid_type', 'must be an array');
  return node.values;
}

function compileNode(ctx: ResolveContext, node: unknown, path: Path, depth: number): SqlFragment {
  if (!isPlainObject(node)) throw invalidInput(ctx.context, path, 'invalid_type', 'must be a filter object');
  if (depth > MAX_DEPTH) throw invalidInput(ctx.context, path, 'too_big', `filters may nest at most ${MAX_DEPTH} levels`);
  const { dialect } = ctx;
  switch (node.op) {
    case 'and':
    case 'or': {
      if (!Array.isArray(node.filters)) throw invalidInput(ctx.context, [...path, 'filters'], 'invalid_type', 'must be an array of filters');
      if (node.filters.length === 0) return node.op === 'and' ? TRUE : FALSE;
      const parts = node.filters.map((child, i) => compileNode(ctx, child, [...path, 'filters', i], depth + 1));
      return sql`(${sql.join(parts, node.op === 'and' ? sql` AND ` : sql` OR `)})`;
    }
    case 'eq': {
      const field = resolveField(ctx, node.field, [...path, 'field'], hintOf(node.value));
      if (field.kind !== 'scalar') throw invalidInput(ctx.context, [...path, 'op'], 'invalid_op', 'list fields support only containsAny');
      if (node.value === null) return sql`${field.expr} IS NULL`;
      if (!sameType(node.value, field.type)) return FALSE;
      return sql`${field.expr} = ${dialect.param(node.value)}`;
    }
    case 'in': {
      const values = listOf(ctx, node, path);
      const field = resolveField(ctx, node.field, [...path, 'field'], hintOf(values.find((v) => v !== null)));
      if (field.kind !== 'scalar') throw invalidInput(ctx.context, [...path, 'op'], 'invalid_op', 'list fields support only containsAny');
      const typed = [...new Set(values.filter((v): v is Scalar => sameType(v, field.type)))];
      const parts: SqlFragment[] = [];
      if (values.includes(null)) parts.push(sql`${field.expr} IS NULL`);
      if (typed.length) parts.push(dialect.inList(field.expr, typed, field.type));
      if (parts.length === 0) return FALSE;
      return parts.length === 1 ? parts[0]! : sql`(${parts[0]!} OR ${parts[1]!})`;
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const field = resolveField(ctx, node.field, [...path, 'field'], hintOf(node.value));
      if (field.kind !== 'scalar') throw invalidInput(ctx.context, [...path, 'op'], 'invalid_op', `${node.op} applies to number and text fields only`);
      // A missing value never matches; nor does a value of another type than the field's.
      if (field.type === 'boolean' || !sameType(node.value, field.type)) return FALSE;
      const op = node.op === 'lt' ? sql`<` : node.op === 'lte' ? sql`<=` : node.op === 'gt' ? sql`>` : sql`>=`;
      return sql`${field.expr} ${op} ${dialect.param(node.value)}`;
    }
    case 'prefix': {
      const field = resolveField(ctx, node.field, [...path, 'field'], 'string');
      if (field.kind !== 'scalar') throw invalidInput(ctx.context, [...path, 'op'], 'invalid_op', 'prefix applies to text fields only');
      if (field.type !== 'string' || typeof node.value !== 'string') return FALSE;
      // Columns of text fields hold only text (other JSON types are stored as NULL).
      if (node.value === '') return sql`${field.expr} IS NOT NULL`;
      const upper = prefixUpperBound(node.value);
      const lower = sql`${field.expr} >= ${node.value}`;
      return upper === undefined ? lower : sql`(${lower} AND ${field.expr} < ${upper})`;
    }
    case 'containsAny': {
      const values = listOf(ctx, node, path);
      const field = resolveField(ctx, node.field, [...path, 'field'], 'string[]');
      if (field.kind !== 'list') throw invalidInput(ctx.context, [...path, 'op'], 'invalid_op', 'containsAny applies to list fields only');
      const strings = [...new Set(values.filter((v): v is string => typeof v === 'string'))];
      return strings.length === 0 ? FALSE : field.containsAny(strings);
    }
    default:
      throw invalidInput(ctx.context, [...path, 'op'], 'invalid_value', 'must be one of eq, in, lt, lte, gt, gte, prefix, containsAny, and, or');
  }
}

/**
 * Compiles a filter tree to a SQL condition over row alias `t` that agrees with core's `matchFilter`:
 * `eq null` is `IS NULL` (missing and null are both stored as NULL), `in` with `null` adds `IS NULL`,
 * comparisons never match missing values or values of another type, `prefix` is a code-point range,
 * `containsAny` is an indexed side-table lookup (or a JSON array test for custom lists),
 * `and []` is true and `or []` is false. Every value is a bound parameter.
 *
 * @throws CrmError `VALIDATION` for malformed trees and unknown fields.
 */
export function compileFilter(ctx: ResolveContext, filter: Filter | undefined): SqlFragment | undefined {
  if (filter === undefined) return undefined;
  return compileNode(ctx, filter, ['filter'], 0);
}

import type { Filter, QuerySpec, Scalar } from '@crmkit/core';
import type { ResolveContext } from './field-resolver.js';
import { prefixUpperBound } from './prefix-range.js';
import type { ScalarType } from './table-layout.js';

/** A query's structure (everything that decides its SQL text) and its bound parameters in SQL order. */
export interface QueryShape {
  readonly key: string;
  readonly params: unknown[];
}

/** Leaves in the cacheable subset: comparisons of declared columns with plain values. */
function leafShape(ctx: ResolveContext, leaf: Filter, params: unknown[]): string | undefined {
  if (!('field' in leaf) || typeof leaf.field !== 'string') return undefined;
  const column = ctx.table.scalars.get(leaf.field);
  if (!column) return undefined;
  const type: ScalarType = column.type;
  const typed = (v: unknown): v is Scalar => typeof v === type && (typeof v !== 'number' || Number.isFinite(v));
  switch (leaf.op) {
    case 'eq':
      if (leaf.value === null) return `${leaf.field}=null`;
      if (!typed(leaf.value)) return `${leaf.field}=F`;
      params.push(ctx.dialect.param(leaf.value));
      return `${leaf.field}=?`;
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      if (type === 'boolean' || !typed(leaf.value)) return `${leaf.field}${leaf.op}F`;
      params.push(ctx.dialect.param(leaf.value));
      return `${leaf.field}${leaf.op}?`;
    case 'prefix': {
      if (type !== 'string' || typeof leaf.value !== 'string') return `${leaf.field}^F`;
      if (leaf.value === '') return `${leaf.field}^''`;
      const upper = prefixUpperBound(leaf.value);
      params.push(leaf.value);
      if (upper !== undefined) params.push(upper);
      return `${leaf.field}^${upper === undefined ? '>' : '<>'}`;
    }
    case 'in': {
      // Access scopes are `in` lists (`owner_id IN (…)`): the same shape for every principal of a size.
      if (!Array.isArray(leaf.values)) return undefined;
      const values = [...new Set(leaf.values.filter(typed))];
      const nullable = leaf.values.includes(null);
      if (values.length === 0) return `${leaf.field} in ${nullable ? 'N' : 'F'}`;
      for (const v of values) params.push(ctx.dialect.param(v));
      return `${leaf.field} in ${nullable ? 'N' : ''}${values.length}`;
    }
    default:
      return undefined; // `containsAny`, custom fields and nested trees compile every time
  }
}

/**
 * The shape of a filter that is a leaf or an AND of such (nested ANDs too: a board column is the
 * board's filter, the access scope and the stage, and-ed), parameters in the compiler's order.
 */
function treeShape(ctx: ResolveContext, filter: Filter, params: unknown[], depth: number): string | undefined {
  if (typeof filter !== 'object' || filter === null || depth > 4) return undefined;
  if (filter.op === 'or') return undefined;
  if (filter.op !== 'and') return leafShape(ctx, filter, params);
  if (!Array.isArray(filter.filters) || filter.filters.length === 0) return undefined;
  const parts: string[] = [];
  for (const child of filter.filters) {
    const part = treeShape(ctx, child, params, depth + 1);
    if (part === undefined) return undefined;
    parts.push(part);
  }
  return `&(${parts.join(',')})`;
}

/**
 * The shape of a common query — no cursor; a filter that is one leaf or an AND of leaves on declared
 * columns (`eq`, `in`, comparisons, `prefix`), ANDs nested or not; sorts on declared columns — or
 * `undefined` for anything else.
 * Board pages, task and visit lookups and most list calls have such shapes: they differ only in
 * values, so their SQL text can be reused without building and compiling the Kysely tree again.
 *
 * The parameters must come out in the order the compiler binds them; `compilePageQuery` checks that
 * against Kysely's output before it trusts a shape, and never caches a shape that disagrees.
 */
export function pageQueryShape(ctx: ResolveContext, spec: QuerySpec): QueryShape | undefined {
  if (spec.after !== undefined) return undefined;
  const params: unknown[] = [ctx.tenantId];
  let filterKey = '';
  const filter = spec.filter;
  if (filter !== undefined) {
    const key = treeShape(ctx, filter, params, 0);
    if (key === undefined) return undefined;
    filterKey = key;
  }
  let sortKey = '';
  for (const s of spec.sort ?? []) {
    if (typeof s !== 'object' || s === null || typeof s.field !== 'string' || !ctx.table.scalars.has(s.field)) return undefined;
    if (s.direction !== undefined && s.direction !== 'asc' && s.direction !== 'desc') return undefined;
    sortKey += `${s.field}:${s.direction ?? 'asc'},`;
  }
  const limit = spec.limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)) return undefined;
  // The limit is part of the SQL text (see `compilePageQuery`), so of the shape.
  return { key: `${ctx.table.entity}|${filterKey}|${sortKey}|${limit === undefined ? '' : limit}`, params };
}

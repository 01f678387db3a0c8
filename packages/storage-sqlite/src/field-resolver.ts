import { CUSTOM_PATH_PATTERN, type FieldType } from '@crmkit/core/storage';
import { sql } from 'kysely';
import { runtimeColumnKey } from './migrations.js';
import { col, type SqlDialect, type SqlFragment } from './sql-dialect.js';
import { invalidInput } from './storage-errors.js';
import type { EntityTable, ScalarType } from './table-layout.js';

/** A query field resolved against the layout: a typed SQL expression, or a list field. */
export type ResolvedField =
  | { readonly kind: 'scalar'; readonly field: string; readonly type: ScalarType; readonly expr: SqlFragment }
  | { readonly kind: 'list'; readonly field: string; readonly containsAny: (values: readonly string[]) => SqlFragment };

/** What a compiler needs to resolve fields. */
export interface ResolveContext {
  readonly dialect: SqlDialect;
  readonly table: EntityTable;
  readonly tenantId: string;
  readonly customTypes: Readonly<Record<string, FieldType>> | undefined;
  /** Operation name for error messages (`query`, `aggregate`). */
  readonly context: string;
}

const TYPES = new Set<FieldType>(['string', 'number', 'boolean', 'string[]']);

function customTypeOf(ctx: ResolveContext, field: string, hint: FieldType | undefined): FieldType | undefined {
  const types = ctx.customTypes;
  if (types && Object.prototype.hasOwnProperty.call(types, field)) {
    const type = types[field];
    if (type !== undefined && TYPES.has(type)) return type;
  }
  return hint;
}

/**
 * Resolves a field path to SQL. Only three kinds of names are accepted, and none reaches the SQL text
 * as written: `id` and declared fields map to layout columns (schema-derived identifiers); custom paths
 * must match `CUSTOM_PATH_PATTERN` and are bound as parameters (a JSON path or a `text[]`).
 *
 * @param hint The type to assume for a custom path missing from `customTypes` (from a filter value).
 * @throws CrmError `VALIDATION` for anything else, or a custom path whose type is unknown.
 */
export function resolveField(ctx: ResolveContext, field: unknown, path: readonly (string | number)[], hint?: FieldType): ResolvedField {
  if (typeof field !== 'string') throw invalidInput(ctx.context, path, 'invalid_type', 'must be a field name');
  const column = ctx.table.scalars.get(field);
  if (column) return { kind: 'scalar', field, type: column.type, expr: col(column.column) };
  const list = ctx.table.lists.get(field);
  if (list) {
    const { dialect, tenantId } = ctx;
    return {
      kind: 'list',
      field,
      containsAny: (values) => {
        const side = dialect.table(list.table);
        const inValues = dialect.inList(sql.ref('s.value'), values, 'string');
        return sql`${col('id')} IN (SELECT ${sql.ref('s.id')} FROM ${side} AS "s" WHERE ${sql.ref('s.tenant_id')} = ${tenantId} AND ${inValues})`;
      },
    };
  }
  if (CUSTOM_PATH_PATTERN.test(field)) {
    const type = customTypeOf(ctx, field, hint);
    if (!type) throw invalidInput(ctx.context, path, 'unknown_type', `the type of "${field}" must be given in customTypes`);
    const segments = field.split('.');
    if (type === 'string[]') return { kind: 'list', field, containsAny: (values) => ctx.dialect.customContainsAny(segments, values) };
    // A runtime index's generated column holds exactly `customValue` of this type: read it instead.
    const stored = ctx.table.runtimeColumns.get(runtimeColumnKey(field, type));
    if (stored) return { kind: 'scalar', field, type, expr: col(stored.column) };
    return { kind: 'scalar', field, type, expr: ctx.dialect.customValue(segments, type) };
  }
  throw invalidInput(ctx.context, path, 'unknown_field', `"${field.slice(0, 100)}" is not a queryable field of ${ctx.table.entity}`);
}

/** Resolves a field that must be a scalar (sort keys, group keys, metric fields). */
export function resolveScalar(ctx: ResolveContext, field: unknown, path: readonly (string | number)[]): Extract<ResolvedField, { kind: 'scalar' }> {
  const resolved = resolveField(ctx, field, path);
  if (resolved.kind !== 'scalar') throw invalidInput(ctx.context, path, 'invalid_op', `list field "${resolved.field}" cannot be sorted, grouped or aggregated`);
  return resolved;
}

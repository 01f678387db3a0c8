import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { filterFields, type AggregateRow, type AggregateSpec, type Filter, type ListFilter, type QuerySpec, type SortSpec } from '../query/query-spec.js';
import { CUSTOM_PATH_PATTERN, type FieldType } from '../query/field-type.js';
import { decodeCursor } from '../query/cursor.js';
import { validateAggregate, validateFilterTree, validateSort, type FieldResolver } from '../query/validate-query.js';
import { LIMITS } from '../schema/primitives.js';
import type { RecordBase } from '../schema/record.js';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { entitySchemaOf } from '../storage/storage-schema.js';
import { runRead, type Operation } from './operation.js';
import type { CrmContext } from './context.js';
import { copyInput } from './parse-input.js';

/** Why `where.same` was refused by a crm without the duplicates feature. */
const SAME_NEEDS_DUPLICATES = 'where.same matches identity keys: it needs the duplicates() feature from @crmkit/core/duplicates';

/** True when a list filter has a `same` node anywhere. */
function hasSameFilter(node: unknown): boolean {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const n = node as { op?: unknown; filters?: unknown };
  if (n.op === 'same') return true;
  return Array.isArray(n.filters) && n.filters.some(hasSameFilter);
}

/** Options of every `list` method. */
export interface ListOptions<F extends string = string> {
  /** A filter tree; see `Filter`, `SameFilter` and the `where` builders. */
  readonly where?: ListFilter<F>;
  /** Sort keys; ties always break by id ascending. */
  readonly orderBy?: readonly SortSpec<F>[];
  /** Page size, 1–1000 (default 50). */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of a list. `nextCursor` is present exactly when more records match. */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** Options of every `aggregate` method. */
export interface AggregateOptions<F extends string = string> {
  readonly where?: Filter<F>;
  readonly groupBy?: readonly F[];
  readonly metrics: AggregateSpec<F>['metrics'];
}

const CUSTOMIZABLE = new Set(['lead', 'contact', 'company', 'deal']);

/**
 * True when caller input (filter, sort or aggregate options, unvalidated) may name a custom field. Queries
 * that name none need no definitions: not loading them saves a read per transaction (a round trip on
 * PostgreSQL and IndexedDB). A false positive only loads them.
 */
export function mentionsCustomField(...inputs: unknown[]): boolean {
  try {
    return inputs.some((input) => input !== undefined && JSON.stringify(input).includes('"custom.'));
  } catch {
    return true;
  }
}

/** Resolves query fields of an entity: `id`, its declared fields and, where allowed (and `custom`), its custom fields. */
export async function fieldResolver(op: Operation, entity: string, custom = true): Promise<FieldResolver> {
  const hook = op.ctx.hooks.customFields;
  return resolverOf(entity, custom && hook && CUSTOMIZABLE.has(entity) ? await hook.queryType(op, entity) : undefined);
}

function resolverOf(entity: string, customType: ((path: string) => FieldType | undefined) | undefined): FieldResolver {
  const declared = entitySchemaOf(CRM_STORAGE_SCHEMA, entity).fields;
  return (field) => {
    if (field === 'id') return 'string';
    if (Object.prototype.hasOwnProperty.call(declared, field)) return declared[field];
    if (customType && CUSTOM_PATH_PATTERN.test(field)) return customType(field);
    return undefined;
  };
}

/** The types of the custom paths among `fields`, for adapters that store custom values as JSON. */
function customTypesOf(fields: readonly string[], resolve: FieldResolver): Record<string, FieldType> {
  const types: Record<string, FieldType> = {};
  for (const field of fields) {
    if (!field.startsWith('custom.')) continue;
    const type = resolve(field);
    if (type) types[field] = type;
  }
  return types;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A validated filter and sort, with the custom-field types adapters need. */
export interface PreparedQuery {
  readonly filter: Filter | undefined;
  readonly sort: readonly SortSpec[];
  readonly customTypes: Record<string, FieldType>;
}

/**
 * Validates a filter and sort against an entity's fields (and custom fields).
 *
 * @throws CrmError `VALIDATION` for unknown fields, wrong value types or operators.
 */
export async function prepareQuery(
  op: Operation,
  entity: string,
  where: unknown,
  orderBy: unknown,
  context: string,
  defaultOrder: readonly SortSpec[],
  issues: ValidationIssue[] = [],
): Promise<PreparedQuery> {
  const resolve = await fieldResolver(op, entity, mentionsCustomField(where, orderBy, defaultOrder));
  if (hasSameFilter(where)) {
    // Identity keys are the duplicates feature's: without it, records carry none to match.
    const duplicates = op.ctx.hooks.duplicates;
    // The unresolved `same` node would also fail the filter check: this is the one problem to report.
    if (!duplicates) throw validationError(context, [...issues, { path: ['where'], code: 'feature_required', message: SAME_NEEDS_DUPLICATES }]);
    else {
      const resolved = await duplicates.resolveSame(op, entity, where);
      issues.push(...resolved.issues);
      where = resolved.where;
    }
  }
  if (where !== undefined) issues.push(...validateFilterTree(where, resolve));
  if (orderBy !== undefined) issues.push(...validateSort(orderBy, resolve));
  if (issues.length) throw validationError(context, issues);
  const filter = where as Filter | undefined;
  const guard = op.guard;
  // A service's default order on a field the principal may not read is not the caller's choice: newest
  // first instead (keeping it, even unchecked, would tell the field by the order of the rows).
  const sort = (orderBy as SortSpec[] | undefined) ?? (guard && defaultOrder.some((s) => !guard.readable(entity, s.field)) ? NEWEST : defaultOrder);
  const fields = specFields({ filter, sort });
  // Filtering or sorting by a field one may not read would reveal it: refused, not silently ignored.
  guard?.checkReadFields(entity, fields, context);
  return { filter, sort, customTypes: customTypesOf(fields, resolve) };
}

/** The default order of lists, and the one a hidden default order falls back to (ties by id). */
const NEWEST: readonly SortSpec[] = [{ field: 'createdAt', direction: 'desc' }];

/** Every field a storage read names: its filter, sort, grouping and metrics (with their filters). */
function specFields(spec: { readonly filter?: Filter; readonly sort?: readonly SortSpec[] } & Partial<Pick<AggregateSpec, 'groupBy' | 'metrics'>>): string[] {
  return [
    ...filterFields(spec.filter),
    ...(spec.sort ?? []).map((s) => s.field),
    ...(spec.groupBy ?? []),
    ...Object.values(spec.metrics ?? {}).flatMap((m) => [...('field' in m ? [m.field] : []), ...filterFields(m.where)]),
  ];
}

/**
 * A query a service makes for the acting principal with fields it chose itself (an agenda's due
 * times, a board column's stage): the read scope pushed down, and every field it filters or sorts by
 * checked against the view's field rules as a caller's own query is — the answer depends on them.
 *
 * @throws CrmError `FORBIDDEN` naming the fields the principal may not read.
 */
export async function scopedQuery<T extends RecordBase>(op: Operation, entity: string, spec: QuerySpec, context: string): Promise<{ rows: T[]; nextCursor?: string }> {
  op.guard?.checkReadFields(entity, specFields(spec), context);
  return op.query<T>(entity, { ...spec, filter: op.scoped(entity, spec.filter) });
}

/**
 * `scopedQuery` for an aggregate a service chooses (a report's grouping by owner, a board's counts
 * per stage): its filter, grouping and metrics are checked like a caller's `aggregate`.
 *
 * @throws CrmError `FORBIDDEN` naming the fields the principal may not read.
 */
export async function scopedAggregate(op: Operation, entity: string, spec: AggregateSpec, context: string): Promise<AggregateRow[]> {
  op.guard?.checkReadFields(entity, specFields(spec), context);
  return op.tx.aggregate(entity, op.tenantId, { ...spec, filter: op.scoped(entity, spec.filter) });
}

/** Checks a page size: an integer from 1 to `max`. */
export function checkLimit(limit: unknown, path: string, issues: ValidationIssue[], max: number = LIMITS.listLimit): void {
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > max)) {
    issues.push({ path: [path], code: 'invalid_value', message: `must be an integer from 1 to ${max}` });
  }
}

/**
 * Validates list options and runs the query.
 *
 * @throws CrmError `VALIDATION` for unknown fields, wrong value types, a bad limit or cursor.
 */
export async function listRecords<T extends RecordBase>(
  op: Operation,
  entity: string,
  options: unknown,
  context: string,
  defaultOrder: readonly SortSpec[] = NEWEST,
  /** A filter the service adds, and-ed with the caller's (its fields are checked like the caller's: rotting deals are a filter on their stage). */
  internalFilter?: Filter,
): Promise<Page<T>> {
  // Read once as plain data (a throwing getter or Proxy is the caller's VALIDATION, not a crash).
  const opts = options === undefined ? {} : copyInput(options, context);
  if (!isPlainObject(opts)) throw validationError(context, [{ path: [], code: 'invalid_type', message: 'must be an options object' }]);
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(opts)) {
    if (!['where', 'orderBy', 'limit', 'cursor'].includes(key)) issues.push({ path: [key], code: 'unknown_field', message: `unknown field "${key}"` });
  }
  checkLimit(opts.limit, 'limit', issues);
  if (opts.cursor !== undefined && typeof opts.cursor !== 'string') {
    issues.push({ path: ['cursor'], code: 'invalid_type', message: 'must be a cursor string' });
  }
  const { filter, sort, customTypes } = await prepareQuery(op, entity, opts.where, opts.orderBy, context, defaultOrder, issues);
  if (opts.cursor !== undefined) decodeCursor(opts.cursor as string, sort); // fails early with VALIDATION
  op.guard?.checkReadFields(entity, filterFields(internalFilter), context);
  const combined = internalFilter ? (filter ? { op: 'and' as const, filters: [internalFilter, filter] } : internalFilter) : filter;
  const access = op.ctx.hooks.access;
  if (entity === 'event' && op.guard && access) {
    // Event visibility follows each event's subject: the access feature reads page by page until full.
    const query = (spec: QuerySpec) => op.query<RecordBase>('event', spec);
    const load = (type: string, ids: readonly string[]) => op.getMany<RecordBase>(type, ids);
    return access.readEvents(op.guard, query, load, combined, sort, (opts.limit as number | undefined) ?? 50, opts.cursor as string | undefined) as unknown as Promise<Page<T>>;
  }
  const spec: QuerySpec = { filter: combined, sort, limit: (opts.limit as number | undefined) ?? 50, after: opts.cursor as string | undefined, customTypes };
  const { rows, nextCursor } = await (op.guard?.readPage?.(entity, spec, (s) => op.query<T>(entity, s)) ?? op.query<T>(entity, { ...spec, filter: op.scoped(entity, combined) }));
  return nextCursor === undefined ? { items: rows } : { items: rows, nextCursor };
}

/** Validates aggregate options; the spec storage takes, and the fields it reads. */
function prepareAggregate(resolve: FieldResolver, options: unknown, context: string): { spec: AggregateSpec; fields: string[] } {
  const spec = validateAggregate(options, resolve, context);
  const fields = specFields(spec);
  return { spec: { ...spec, customTypes: customTypesOf(fields, resolve) }, fields };
}

/** Validates aggregate options and runs the aggregate. */
export async function aggregateRecords(op: Operation, entity: string, raw: unknown, context: string): Promise<AggregateRow[]> {
  // Read once as plain data (a throwing getter or Proxy is the caller's VALIDATION, not a crash).
  const options = copyInput(raw, context);
  const { spec, fields } = prepareAggregate(await fieldResolver(op, entity, mentionsCustomField(options)), options, context);
  op.guard?.checkReadFields(entity, fields, context);
  const filter = op.scoped(entity, spec.filter);
  return op.tx.aggregate(entity, op.tenantId, { ...spec, ...(filter ? { filter } : {}) });
}

/**
 * `aggregateRecords` as one statement outside any transaction where the adapter offers it
 * (`StorageAdapter.aggregate`): no BEGIN/COMMIT and no configuration read around it. Custom-field
 * types come from the cache (a type never changes once defined); a path it does not know (a field
 * another process defined a moment ago), a cold cache or a view (its guard is read in a
 * transaction) take a read transaction, whose configuration check gives the verdict.
 */
export async function readAggregate(ctx: CrmContext, entity: string, raw: unknown, context: string): Promise<AggregateRow[]> {
  ctx.assertOpen();
  const options = copyInput(raw, context);
  const named = mentionsCustomField(options);
  const custom = named && CUSTOMIZABLE.has(entity) ? ctx.hooks.customFields?.cachedQueryType(entity) : undefined;
  if (ctx.storage.aggregate && !(ctx.principal && ctx.hooks.access) && (custom || !named)) {
    let spec: AggregateSpec | undefined;
    try {
      spec = prepareAggregate(resolverOf(entity, custom), options, context).spec;
    } catch {
      // Bad input, or a field the cache does not know yet: the transaction's answer is the verdict.
    }
    if (spec) return ctx.storage.aggregate(entity, ctx.tenantId, spec);
  }
  return runRead(ctx, (op) => aggregateRecords(op, entity, options, context));
}

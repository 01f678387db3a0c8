import { conflict, CrmError, validationError, type ValidationIssue } from '../errors/crm-error.js';
import type { AggregateSpec, QuerySpec } from '../query/query-spec.js';
import { findUnstorableText } from '../domain/storable-text.js';
import type { ChangeBatch, Row, RuntimeIndexSpec, WriteOp } from './storage-adapter.js';
import { CUSTOM_PATH_PATTERN, type EntitySchema, type StorageSchema } from './storage-schema.js';

/** Throws `CLOSED` for a call on a closed adapter. Shared by every adapter. */
export function assertOpen(closed: boolean, adapter: string): void {
  if (closed) throw new CrmError('CLOSED', `The ${adapter} storage is closed`, { what: `${adapter} storage` });
}

/** Throws `VALIDATION` when a written row does not belong to the tenant the write is scoped to. */
export function assertRowTenant(entity: string, tenantId: string, op: WriteOp): void {
  if (op.type === 'delete') return;
  const row = op.row;
  if (row.tenantId !== tenantId) {
    throw validationError(`storage write to ${entity}`, [
      { path: ['tenantId'], code: 'tenant_mismatch', message: `row belongs to tenant "${String(row.tenantId)}", not "${tenantId}"` },
    ]);
  }
  if (typeof row.id !== 'string' || typeof row.version !== 'number') {
    throw validationError(`storage write to ${entity}`, [{ path: ['id'], code: 'invalid_row', message: 'rows need a string id and a numeric version' }]);
  }
}

/**
 * Checks one write against the stored row (or its absence) and throws `CONFLICT` as the contract says.
 * Adapters that read before writing share this check so their conflict details agree.
 */
export function checkWriteVersion(entity: string, op: WriteOp, stored: Row | undefined): void {
  const id = op.type === 'delete' ? op.id : op.row.id;
  if (op.type === 'insert') {
    if (stored) throw conflict(entity, id, null, stored.version);
    return;
  }
  const expected = op.expectedVersion;
  if (!stored) throw conflict(entity, id, expected ?? null, null);
  if (expected !== undefined && stored.version !== expected) throw conflict(entity, id, expected, stored.version);
}

/**
 * Calls every change listener with a committed batch. A throwing listener is reported and never
 * stops the others: the commit already happened. Shared by every adapter.
 */
export function deliverChangeBatch(listeners: Iterable<(batch: ChangeBatch) => void>, batch: ChangeBatch): void {
  for (const listener of [...listeners]) {
    try {
      listener(batch);
    } catch (error) {
      console.error('crmkit: a storage change listener threw', error);
    }
  }
}

/** Throws `VALIDATION` for a `nextSequence` call with a bad name, tenant or count. Shared by every adapter. */
export function assertSequenceArgs(name: string, tenantId: string, count: number): void {
  const issues: ValidationIssue[] = [];
  if (typeof name !== 'string' || name.length === 0 || name.length > 100) issues.push({ path: ['name'], code: 'invalid_value', message: 'must be a string of 1–100 characters' });
  if (typeof tenantId !== 'string') issues.push({ path: ['tenantId'], code: 'invalid_type', message: 'must be a string' });
  if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) issues.push({ path: ['count'], code: 'invalid_value', message: 'must be an integer from 1 to 1000000' });
  if (issues.length) throw validationError('storage nextSequence', issues);
}

/**
 * Throws `VALIDATION` when a written row holds text an engine cannot store alike (NUL, unpaired
 * surrogates), naming its path. Shared by every adapter so they give one verdict (the contract's rule).
 */
export function assertStorableRow(entity: string, op: WriteOp): void {
  if (op.type === 'delete') {
    const found = findUnstorableText(op.id, ['id']);
    if (found) throw validationError(`storage write to ${entity}`, [{ path: found.path, code: 'invalid_format', message: found.message }]);
    return;
  }
  const found = findUnstorableText(op.row);
  if (found) throw validationError(`storage write to ${entity}`, [{ path: found.path, code: 'invalid_format', message: found.message }]);
}

/** Throws `VALIDATION` when a query or aggregate compares with text an engine cannot hold alike (see `assertStorableRow`). */
export function assertStorableQuery(entity: string, spec: QuerySpec | AggregateSpec): void {
  const found = findUnstorableText(spec);
  if (found) throw validationError(`storage query of ${entity}`, [{ path: found.path, code: 'invalid_format', message: found.message }]);
}

const INDEXABLE = new Set(['string', 'number', 'boolean']);

/**
 * Checks the argument of `ensureIndexes` against the schema: every spec must name an entity of the
 * schema, a custom path (`custom.<key>[.amount|.currency]`) and a scalar type. Shared by every adapter
 * so that they reject the same input the same way.
 *
 * @throws CrmError `VALIDATION` with the path of every bad spec.
 */
export function checkRuntimeIndexes(schema: StorageSchema | undefined, indexes: readonly RuntimeIndexSpec[]): void {
  if (!Array.isArray(indexes)) throw validationError('ensureIndexes', [{ path: [], code: 'invalid_type', message: 'must be an array of index specs' }]);
  const issues = indexes.flatMap((spec, i) => {
    const bad = (path: string, message: string) => [{ path: [i, path], code: 'invalid_value', message }];
    if (typeof spec !== 'object' || spec === null) return bad('entity', 'must be an index spec');
    if (schema && !schema.entities.some((e) => e.name === spec.entity)) return bad('entity', `unknown entity "${String(spec.entity).slice(0, 60)}"`);
    if (typeof spec.field !== 'string' || !CUSTOM_PATH_PATTERN.test(spec.field)) return bad('field', 'must be a custom path such as custom.region');
    if (!INDEXABLE.has(spec.type)) return bad('type', 'must be string, number or boolean');
    return [];
  });
  if (issues.length) throw validationError('ensureIndexes', issues);
}

/**
 * Refuses a query naming a field the entity does not declare (nor `id`, nor a custom path), as the
 * SQL adapters do: memory must give the same verdict, or code querying such a field works only there.
 *
 * @throws CrmError `VALIDATION` (`unknown_field`) with the path of the first such field.
 */
export function assertQueryableFields(entity: EntitySchema, spec: QuerySpec | AggregateSpec): void {
  const check = (field: unknown, path: (string | number)[]): void => {
    if (typeof field === 'string' && field !== 'id' && !(field in entity.fields) && !CUSTOM_PATH_PATTERN.test(field)) {
      throw validationError(`storage query of ${entity.name}`, [{ path, code: 'unknown_field', message: `"${field.slice(0, 100)}" is not a queryable field of ${entity.name}` }]);
    }
  };
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (typeof node !== 'object' || node === null) return;
    const { field, filters } = node as { field?: unknown; filters?: unknown };
    if (Array.isArray(filters)) filters.forEach((f, i) => walk(f, [...path, 'filters', i]));
    else check(field, [...path, 'field']);
  };
  walk(spec.filter, ['filter']);
  if ('metrics' in spec) {
    spec.groupBy?.forEach((f, i) => check(f, ['groupBy', i]));
    for (const [name, metric] of Object.entries(spec.metrics ?? {})) {
      if ('field' in metric) check(metric.field, ['metrics', name, 'field']);
      walk(metric.where, ['metrics', name, 'where']);
    }
  } else spec.sort?.forEach((s, i) => check(s?.field, ['sort', i, 'field']));
}

import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { LIMITS } from '../schema/primitives.js';
import { unstorableTextReason } from '../domain/storable-text.js';
import type { FieldType } from './field-type.js';
import type { AggregateMetric, AggregateSpec, Filter, SortSpec } from './query-spec.js';

/** Resolves a field path to its type, or `undefined` when the entity has no such queryable field. */
export type FieldResolver = (field: string) => FieldType | undefined;

type Path = (string | number)[];

const COMPARE_OPS = new Set(['lt', 'lte', 'gt', 'gte']);
const MAX_STRING = 2_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkScalar(value: unknown, type: FieldType, path: Path, issues: ValidationIssue[], allowNull: boolean): void {
  if (value === null) {
    if (!allowNull) issues.push({ path, code: 'invalid_type', message: 'must not be null' });
    return;
  }
  const expected = type === 'string[]' ? 'string' : type;
  if (typeof value !== expected || (typeof value === 'number' && !Number.isFinite(value))) {
    issues.push({ path, code: 'invalid_type', message: `must be a ${expected} to match the field` });
    return;
  }
  if (typeof value === 'string' && value.length > MAX_STRING) {
    issues.push({ path, code: 'too_big', message: `must be at most ${MAX_STRING} characters` });
  }
  const reason = typeof value === 'string' ? unstorableTextReason(value) : undefined;
  if (reason) issues.push({ path, code: 'invalid_format', message: reason });
}

function checkKeys(node: Record<string, unknown>, allowed: readonly string[], path: Path, issues: ValidationIssue[]): void {
  for (const key of Object.keys(node)) {
    if (!allowed.includes(key)) issues.push({ path: [...path, key], code: 'unknown_field', message: `unknown field "${key}"` });
  }
}

function checkField(field: unknown, resolve: FieldResolver, path: Path, issues: ValidationIssue[]): FieldType | undefined {
  if (typeof field !== 'string') {
    issues.push({ path, code: 'invalid_type', message: 'must be a field name' });
    return undefined;
  }
  const type = resolve(field);
  if (!type) issues.push({ path, code: 'unknown_field', message: `"${field.slice(0, 100)}" is not a queryable field` });
  return type;
}

function checkList(node: Record<string, unknown>, path: Path, issues: ValidationIssue[]): unknown[] | undefined {
  const values = node.values;
  if (!Array.isArray(values)) {
    issues.push({ path: [...path, 'values'], code: 'invalid_type', message: 'must be an array' });
    return undefined;
  }
  if (values.length > LIMITS.ids) {
    issues.push({ path: [...path, 'values'], code: 'too_big', message: `must have at most ${LIMITS.ids} items` });
    return undefined;
  }
  return values;
}

function validateFilter(
  node: unknown,
  resolve: FieldResolver,
  path: Path,
  issues: ValidationIssue[],
  depth: number,
  budget: { nodes: number },
): void {
  if (--budget.nodes < 0) {
    if (budget.nodes === -1) issues.push({ path, code: 'too_big', message: `a filter may have at most ${LIMITS.filterNodes} nodes` });
    return;
  }
  if (!isPlainObject(node)) {
    issues.push({ path, code: 'invalid_type', message: 'must be a filter object' });
    return;
  }
  const op = node.op;
  switch (op) {
    case 'and':
    case 'or': {
      checkKeys(node, ['op', 'filters'], path, issues);
      if (depth >= LIMITS.filterDepth) {
        issues.push({ path, code: 'too_big', message: `filters may nest at most ${LIMITS.filterDepth} levels` });
        return;
      }
      if (!Array.isArray(node.filters)) {
        issues.push({ path: [...path, 'filters'], code: 'invalid_type', message: 'must be an array of filters' });
        return;
      }
      node.filters.forEach((child, i) => validateFilter(child, resolve, [...path, 'filters', i], issues, depth + 1, budget));
      return;
    }
    case 'eq': {
      checkKeys(node, ['op', 'field', 'value'], path, issues);
      const type = checkField(node.field, resolve, [...path, 'field'], issues);
      if (type === 'string[]') issues.push({ path: [...path, 'op'], code: 'invalid_op', message: 'list fields support only containsAny' });
      else if (type) checkScalar(node.value, type, [...path, 'value'], issues, true);
      return;
    }
    case 'in': {
      checkKeys(node, ['op', 'field', 'values'], path, issues);
      const type = checkField(node.field, resolve, [...path, 'field'], issues);
      const values = checkList(node, path, issues);
      if (type === 'string[]') issues.push({ path: [...path, 'op'], code: 'invalid_op', message: 'list fields support only containsAny' });
      else if (type && values) values.forEach((v, i) => checkScalar(v, type, [...path, 'values', i], issues, true));
      return;
    }
    case 'prefix': {
      checkKeys(node, ['op', 'field', 'value'], path, issues);
      const type = checkField(node.field, resolve, [...path, 'field'], issues);
      if (type && type !== 'string') issues.push({ path: [...path, 'op'], code: 'invalid_op', message: 'prefix applies to text fields only' });
      else if (type) checkScalar(node.value, 'string', [...path, 'value'], issues, false);
      return;
    }
    case 'containsAny': {
      checkKeys(node, ['op', 'field', 'values'], path, issues);
      const type = checkField(node.field, resolve, [...path, 'field'], issues);
      const values = checkList(node, path, issues);
      if (type && type !== 'string[]') issues.push({ path: [...path, 'op'], code: 'invalid_op', message: 'containsAny applies to list fields only' });
      else if (type && values) values.forEach((v, i) => checkScalar(v, 'string', [...path, 'values', i], issues, false));
      return;
    }
    default:
      if (typeof op === 'string' && COMPARE_OPS.has(op)) {
        checkKeys(node, ['op', 'field', 'value'], path, issues);
        const type = checkField(node.field, resolve, [...path, 'field'], issues);
        if (type === 'boolean' || type === 'string[]') {
          issues.push({ path: [...path, 'op'], code: 'invalid_op', message: `${op} applies to number and text fields only` });
        } else if (type) checkScalar(node.value, type, [...path, 'value'], issues, false);
        return;
      }
      issues.push({ path: [...path, 'op'], code: 'invalid_value', message: 'must be one of eq, in, lt, lte, gt, gte, prefix, containsAny, and, or' });
  }
}

/** Returns every problem of a filter tree checked against an entity's fields (empty when valid). */
export function validateFilterTree(filter: unknown, resolve: FieldResolver, path: Path = ['where']): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  validateFilter(filter, resolve, path, issues, 0, { nodes: LIMITS.filterNodes });
  return issues;
}

/** Returns every problem of a sort list: known scalar fields, `asc`/`desc`, at most 4 keys. */
export function validateSort(sort: unknown, resolve: FieldResolver, path: Path = ['orderBy']): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!Array.isArray(sort)) return [{ path, code: 'invalid_type', message: 'must be an array of { field, direction }' }];
  if (sort.length > 4) issues.push({ path, code: 'too_big', message: 'must have at most 4 sort keys' });
  sort.slice(0, 4).forEach((key: unknown, i) => {
    if (!isPlainObject(key)) {
      issues.push({ path: [...path, i], code: 'invalid_type', message: 'must be { field, direction }' });
      return;
    }
    checkKeys(key, ['field', 'direction'], [...path, i], issues);
    const type = checkField(key.field, resolve, [...path, i, 'field'], issues);
    if (type === 'string[]') issues.push({ path: [...path, i, 'field'], code: 'invalid_op', message: 'list fields cannot be sorted' });
    if (key.direction !== undefined && key.direction !== 'asc' && key.direction !== 'desc') {
      issues.push({ path: [...path, i, 'direction'], code: 'invalid_value', message: 'must be "asc" or "desc"' });
    }
  });
  return issues;
}

/** Checks an aggregate spec against an entity's fields. */
export function validateAggregate(spec: unknown, resolve: FieldResolver, context: string): AggregateSpec {
  const issues: ValidationIssue[] = [];
  if (!isPlainObject(spec)) throw validationError(context, [{ path: [], code: 'invalid_type', message: 'must be an object' }]);
  checkKeys(spec, ['where', 'groupBy', 'metrics'], [], issues);
  if (spec.where !== undefined) issues.push(...validateFilterTree(spec.where, resolve));
  if (spec.groupBy !== undefined) {
    if (!Array.isArray(spec.groupBy) || spec.groupBy.length > 4) {
      issues.push({ path: ['groupBy'], code: 'invalid_type', message: 'must be an array of at most 4 fields' });
    } else {
      spec.groupBy.forEach((f: unknown, i) => {
        const type = checkField(f, resolve, ['groupBy', i], issues);
        if (type === 'string[]') issues.push({ path: ['groupBy', i], code: 'invalid_op', message: 'list fields cannot be grouped by' });
      });
    }
  }
  if (!isPlainObject(spec.metrics) || Object.keys(spec.metrics).length === 0) {
    issues.push({ path: ['metrics'], code: 'invalid_type', message: 'must name at least one metric' });
  } else {
    const entries = Object.entries(spec.metrics);
    if (entries.length > 20) issues.push({ path: ['metrics'], code: 'too_big', message: 'must have at most 20 metrics' });
    for (const [alias, metric] of entries.slice(0, 20)) {
      const path = ['metrics', alias];
      if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(alias)) issues.push({ path, code: 'invalid_key', message: 'metric names must be identifiers' });
      if (!isPlainObject(metric)) {
        issues.push({ path, code: 'invalid_type', message: 'must be { fn, field }' });
        continue;
      }
      if (metric.where !== undefined) issues.push(...validateFilterTree(metric.where, resolve, [...path, 'where']));
      if (metric.fn === 'count') {
        checkKeys(metric, ['fn', 'where'], path, issues);
        continue;
      }
      if (!['sum', 'avg', 'min', 'max', 'median'].includes(metric.fn as string)) {
        issues.push({ path: [...path, 'fn'], code: 'invalid_value', message: 'must be one of count, sum, avg, min, max, median' });
        continue;
      }
      checkKeys(metric, ['fn', 'field', 'where'], path, issues);
      const type = checkField(metric.field, resolve, [...path, 'field'], issues);
      const numeric = metric.fn === 'sum' || metric.fn === 'avg' || metric.fn === 'median';
      if (type && (numeric ? type !== 'number' : type !== 'number' && type !== 'string')) {
        issues.push({ path: [...path, 'field'], code: 'invalid_op', message: `${String(metric.fn)} needs a ${numeric ? 'number' : 'number or text'} field` });
      }
    }
  }
  if (issues.length) throw validationError(context, issues);
  return {
    filter: spec.where as Filter | undefined,
    groupBy: spec.groupBy as string[] | undefined,
    metrics: spec.metrics as Record<string, AggregateMetric>,
  };
}

export type { SortSpec };

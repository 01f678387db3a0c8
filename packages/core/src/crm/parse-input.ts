import type * as z from 'zod/mini';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { fromZodIssues } from '../errors/zod-issues.js';
import { unstorableTextReason } from '../domain/storable-text.js';

/**
 * Validates a caller's input at the public boundary.
 *
 * @throws CrmError `VALIDATION` with the path of every problem.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, input: unknown, context: string): z.output<S> {
  const problems = plainDataIssues(input);
  if (problems.length) throw validationError(context, problems);
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(context, fromZodIssues(result.error.issues));
  return result.data;
}

/** The problems that make `input` something other than plain, storable JSON-like data (see `findNonPlainData`). */
export function plainDataIssues(input: unknown, path: (string | number)[] = []): ValidationIssue[] {
  const problems: ValidationIssue[] = [];
  findNonPlainData(input, path, problems, 0);
  return problems;
}

/** Validates an id argument. */
export function parseId(id: unknown, context: string, path = 'id'): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) {
    throw validationError(context, [{ path: [path], code: 'invalid_format', message: 'must be a record id' }]);
  }
  return id;
}

const MAX_DEPTH = 32;

/**
 * Inputs must be plain JSON-like data. Class instances (Date, Map, Buffer…), functions, symbols and
 * bigints are refused with their path before schema validation: zod would treat a `Date` as an empty
 * object, and stored records must round-trip through JSON. Text (values and keys) must be storable
 * on every engine: no NUL, no unpaired UTF-16 surrogates.
 */
function findNonPlainData(value: unknown, path: (string | number)[], issues: ValidationIssue[], depth: number): void {
  if (issues.length >= 20) return;
  if (value === null || value === undefined) return;
  const type = typeof value;
  if (type === 'string') {
    const reason = unstorableTextReason(value as string);
    if (reason) issues.push({ path, code: 'invalid_format', message: reason });
    return;
  }
  if (type === 'number' || type === 'boolean') return;
  if (type !== 'object') {
    issues.push({ path, code: 'invalid_type', message: `must be plain data, got ${type}` });
    return;
  }
  if (depth > MAX_DEPTH) {
    issues.push({ path, code: 'too_big', message: `nests deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => findNonPlainData(item, [...path, i], issues, depth + 1));
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    issues.push({ path, code: 'invalid_type', message: `must be a plain object, got ${name}` });
    return;
  }
  for (const key of Object.keys(value)) {
    // An own "__proto__" key (from JSON.parse) would be dropped or turned into a prototype by object spreads.
    const keyReason = unstorableTextReason(key);
    if (key === '__proto__') issues.push({ path: [...path, key], code: 'invalid_key', message: 'reserved key "__proto__"' });
    else if (keyReason) issues.push({ path: [...path, key], code: 'invalid_key', message: `field names ${keyReason}` });
    else findNonPlainData((value as Record<string, unknown>)[key], [...path, key], issues, depth + 1);
  }
}

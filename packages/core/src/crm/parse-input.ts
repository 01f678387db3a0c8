import type * as z from 'zod/mini';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { fromZodIssues } from '../errors/zod-issues.js';
import { unstorableTextReason } from '../domain/storable-text.js';
import { readCallerInput, unreadable } from '../errors/caller-input.js';

export { readCallerInput, unreadable };

/**
 * Validates a caller's input at the public boundary. The input is copied first (in the same walk
 * that checks it is plain data), so nothing crmkit stores, freezes or keeps is an object the caller
 * still holds: the caller may reuse or change its input afterwards, and crmkit never freezes it.
 * `extra` are problems found by a feature in a part of the input it owns (a next step): they are
 * reported together with the schema's.
 *
 * @throws CrmError `VALIDATION` with the path of every problem.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, input: unknown, context: string, extra: readonly ValidationIssue[] = []): z.output<S> {
  const result = safeParseInput(schema, input);
  const issues = [...(result.success ? [] : result.issues), ...extra];
  if (issues.length) throw validationError(context, issues);
  return (result as { data: z.output<S> }).data;
}

/**
 * `parseInput` for a positional argument that is no object (a consumer name, a list of event ids): its
 * problems are reported under the parameter's name (`['eventIds', 0]`), as those of an options object
 * are under the option's.
 *
 * @throws CrmError `VALIDATION` with the path of every problem.
 */
export function parseArgument<S extends z.ZodMiniType>(schema: S, value: unknown, context: string, name: string): z.output<S> {
  const result = safeParseInput(schema, value);
  if (!result.success) throw validationError(context, result.issues.map((issue) => ({ ...issue, path: [name, ...issue.path] })));
  return result.data;
}

/** `parseInput` without throwing: the parsed copy, or the problems (for imports that report them by row). */
export function safeParseInput<S extends z.ZodMiniType>(
  schema: S,
  input: unknown,
): { success: true; data: z.output<S> } | { success: false; issues: ValidationIssue[] } {
  const problems: ValidationIssue[] = [];
  const copy = copyPlainData(input, [], problems, 0);
  if (problems.length) return { success: false, issues: withLimitNote(problems) };
  const result = schema.safeParse(copy);
  if (!result.success) return { success: false, issues: fromZodIssues(result.error.issues) };
  return { success: true, data: result.data };
}

/**
 * A copy of plain data a caller passed in (options objects kept by observers, filters), with the
 * same checks as `parseInput`: what crmkit keeps must not be the caller's object.
 *
 * @throws CrmError `VALIDATION` for class instances, functions and structures nesting too deep.
 */
export function copyInput<T>(input: T, context: string): T {
  const problems: ValidationIssue[] = [];
  const copy = copyPlainData(input, [], problems, 0);
  if (problems.length) throw validationError(context, withLimitNote(problems));
  return copy as T;
}

/** Validates an id argument. */
export function parseId(id: unknown, context: string, path = 'id'): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) {
    throw validationError(context, [{ path: [path], code: 'invalid_format', message: 'must be a record id' }]);
  }
  return id;
}

const MAX_DEPTH = 32;
/** The walk stops after this many problems of non-plain data; a last issue says so. */
const MAX_ISSUES = 20;

function withLimitNote(issues: ValidationIssue[]): ValidationIssue[] {
  if (issues.length < MAX_ISSUES) return issues;
  return [...issues, { path: [], code: 'too_many_issues', message: `checking stopped after ${MAX_ISSUES} problems; fix these and retry to see the rest` }];
}

/**
 * Inputs must be plain JSON-like data. Class instances (Date, Map, Buffer…), functions, symbols and
 * bigints are refused with their path before schema validation: zod would treat a `Date` as an empty
 * object, and stored records must round-trip through JSON. Text (values and keys) must be storable
 * on every engine: no NUL, no unpaired UTF-16 surrogates. Returns a copy of the data.
 */
function copyPlainData(value: unknown, path: (string | number)[], issues: ValidationIssue[], depth: number): unknown {
  if (issues.length >= MAX_ISSUES) return undefined;
  if (value === null || value === undefined) return value;
  const type = typeof value;
  if (type === 'string') {
    const reason = unstorableTextReason(value as string);
    if (reason) issues.push({ path: [...path], code: 'invalid_format', message: reason });
    return value;
  }
  if (type === 'number' || type === 'boolean') return value;
  // `path` is one stack shared by the walk (pushed and popped): copied only when a problem is reported.
  if (type !== 'object') {
    issues.push({ path: [...path], code: 'invalid_type', message: `must be plain data, got ${type}` });
    return undefined;
  }
  if (depth > MAX_DEPTH) {
    issues.push({ path: [...path], code: 'too_big', message: `nests deeper than ${MAX_DEPTH} levels` });
    return undefined;
  }
  const at = path.length;
  try {
    return copyObject(value as object, path, issues, depth);
  } catch (error) {
    issues.push(unreadable([...path], error));
    path.length = at;
    return undefined;
  }
}

function copyObject(value: object, path: (string | number)[], issues: ValidationIssue[], depth: number): unknown {
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out[i] = copyPlainData(value[i], path, issues, depth + 1);
      path.pop();
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    issues.push({ path: [...path], code: 'invalid_type', message: `must be a plain object, got ${name}` });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    path.push(key);
    // An own "__proto__" key (from JSON.parse) would be dropped or turned into a prototype by object spreads.
    const keyReason = unstorableTextReason(key);
    if (key === '__proto__') issues.push({ path: [...path], code: 'invalid_key', message: 'reserved key "__proto__"' });
    else if (keyReason) issues.push({ path: [...path], code: 'invalid_key', message: `field names ${keyReason}` });
    else out[key] = copyPlainData((value as Record<string, unknown>)[key], path, issues, depth + 1);
    path.pop();
  }
  return out;
}

/**
 * A feature's options argument: a plain object (or nothing), copied one level deep (each option is
 * read once; a throwing getter is `VALIDATION`). `null`, arrays and primitives are refused with
 * `VALIDATION` (spreading them would silently mean "defaults").
 */
export function featureOptions<T extends object>(options: T | undefined, context: string): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw validationError(context, [{ path: [], code: 'invalid_type', message: 'must be an options object (or nothing)' }]);
  }
  return readCallerInput(context, () => ({ ...options }));
}

import type { ValidationIssue } from '@crmkit/core';
import type * as z from 'zod/mini';
import { invalid } from './errors.js';

/** zod's issues as crmkit's, their paths under `prefix` (`unrecognized_keys` becomes one `unknown_field` per key). */
export function issuesOf(error: z.core.$ZodError, prefix: readonly (string | number)[] = []): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], code: 'unknown_field', message: 'is not a known field' }));
    const limit = issue.code === 'too_big' ? ` (at most ${String(issue.maximum)})` : issue.code === 'too_small' ? ` (at least ${String(issue.minimum)})` : '';
    return [{ path, code: issue.code === 'invalid_format' && 'pattern' in issue ? 'invalid_format' : issue.code, message: `${issue.message}${limit}` }];
  });
}

/**
 * Parses `value` with `schema`.
 *
 * @throws CrmError `VALIDATION` naming every problem at its path under `prefix`.
 */
export function parseWith<T>(schema: z.ZodMiniType<T>, value: unknown, context: string, prefix: readonly (string | number)[] = []): T {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(context, issuesOf(result.error, prefix));
  return result.data;
}

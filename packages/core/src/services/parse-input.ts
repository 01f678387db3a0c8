import type * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import { fromZodIssues } from '../errors/zod-issues.js';

/**
 * Validates a caller's input at the public boundary.
 *
 * @throws CrmError `VALIDATION` with the path of every problem.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, input: unknown, context: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(context, fromZodIssues(result.error.issues));
  return result.data;
}

/** Validates an id argument. */
export function parseId(id: unknown, context: string, path = 'id'): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) {
    throw validationError(context, [{ path: [path], code: 'invalid_format', message: 'must be a record id' }]);
  }
  return id;
}

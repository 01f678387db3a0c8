import { isCrmError, validationError, type ValidationIssue } from './crm-error.js';

/**
 * Runs `read` over a caller's input that is not plain data and so is not copied (options holding
 * callbacks or streams): an error other than a CrmError thrown there came from reading the input (a
 * throwing getter or Proxy trap) and becomes `VALIDATION` at `path`.
 */
export function readCallerInput<T>(context: string, read: () => T, path: (string | number)[] = []): T {
  try {
    return read();
  } catch (error) {
    throw isCrmError(error) ? error : validationError(context, [unreadable(path, error)]);
  }
}

/**
 * The issue for a caller's input that threw while crmkit read it (a getter or Proxy trap): the input is
 * unreadable there, not a crmkit fault.
 */
export function unreadable(path: (string | number)[], error: unknown): ValidationIssue {
  return { path, code: 'invalid_type', message: `cannot be read (${error instanceof Error ? error.message : String(error)})` };
}

import { CrmError, isCrmError } from '@crmkit/core';

/** A `VALIDATION` error for a query or write the adapter cannot accept (core normally catches these first). */
export function invalidInput(context: string, path: readonly (string | number)[], code: string, message: string): CrmError<'VALIDATION'> {
  return new CrmError('VALIDATION', `Invalid input to ${context}: ${path.length ? path.join('.') : '(input)'}: ${message}`, {
    issues: [{ path, code, message }],
  });
}

/** A one-level copy of an options object, each option read once: a throwing getter is `VALIDATION`, not a crash. */
export function readOptions(context: string, options: object): Record<string, unknown> {
  try {
    return { ...options };
  } catch (error) {
    throw invalidInput(context, [], 'invalid_type', `cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** A `STORAGE` error that no retry can fix (misuse, a newer database, a broken schema). */
export function storageFailure(adapter: string, operation: string, message: string, cause?: unknown): CrmError<'STORAGE'> {
  return new CrmError('STORAGE', message, { adapter, retryable: false, operation }, cause === undefined ? undefined : { cause });
}

/** SQLite result codes after which the same work can succeed later (locks, transient I/O). */
const SQLITE_RETRYABLE = /^SQLITE_(BUSY|LOCKED|IOERR|PROTOCOL|NOMEM|INTERRUPT)/;
/** PostgreSQL SQLSTATE classes and codes after which a retry can succeed. */
const PG_RETRYABLE = /^(08|53|57P0[1-3]|40001|40P01|55P03|58)/;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for SQLite's "database is locked" family, which the adapter waits out instead of reporting. */
export function isSqliteBusy(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** True for errors of a dropped or unreachable PostgreSQL connection (the client must not go back to the pool). */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (code && /^(08|57P0)/.test(code)) return true;
  if (code && /^E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND)$/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|Client has encountered a connection error|not queryable/i.test(message);
}

/**
 * Wraps an engine error as `CrmError` `STORAGE` with `retryable` set from the engine's error code and
 * the original error as `cause`. `CrmError`s pass through unchanged.
 */
export function toStorageError(adapter: string, operation: string, error: unknown): unknown {
  if (isCrmError(error)) return error;
  const code = codeOf(error);
  const retryable =
    code !== undefined && (adapter === 'sqlite' ? SQLITE_RETRYABLE.test(code) : PG_RETRYABLE.test(code) || isConnectionError(error));
  const text = error instanceof Error ? error.message : String(error);
  return new CrmError('STORAGE', `${adapter} storage failed during ${operation}: ${text}${code ? ` (${code})` : ''}`, { adapter, retryable, operation }, { cause: error });
}

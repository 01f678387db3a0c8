import { CrmError } from '@crmkit/core';

/** The adapter name used in errors and logs. */
export const ADAPTER = 'indexeddb';

/** Engine failures after which a retry can succeed: aborted or interrupted work, a connection that can be reopened. */
const RETRYABLE = new Set(['AbortError', 'UnknownError', 'InvalidStateError', 'TimeoutError']);

/** Builds a `STORAGE` error of this adapter. */
export function storageError(message: string, operation: string, retryable: boolean, cause?: unknown): CrmError<'STORAGE'> {
  return new CrmError('STORAGE', message, { adapter: ADAPTER, retryable, operation }, cause === undefined ? undefined : { cause });
}

/**
 * Translates whatever IndexedDB threw or rejected with into a `STORAGE` error; `CrmError`s pass unchanged.
 * `QuotaExceededError`, `VersionError`, `DataError` and `DataCloneError` are not retryable: the same
 * call would fail the same way.
 */
export function engineError(error: unknown, operation: string): CrmError {
  if (error instanceof CrmError) return error;
  const name = (error as { name?: string } | null)?.name ?? 'AbortError';
  const hint = name === 'VersionError' ? ' (a newer version of the app upgraded the database: reload)' : '';
  return storageError(`IndexedDB ${operation} failed: ${name}: ${(error as Error | null)?.message ?? ''}${hint}`, operation, RETRYABLE.has(name), error ?? undefined);
}

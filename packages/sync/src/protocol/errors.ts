import { CrmError, type ValidationIssue } from '@crmkit/core';

/** A `VALIDATION` error whose message names the first few issues (core's format). */
export function invalid(context: string, issues: readonly ValidationIssue[]): CrmError<'VALIDATION'> {
  const shown = issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`).join('; ');
  return new CrmError('VALIDATION', `Invalid input to ${context}: ${shown}${issues.length > 3 ? ` (+${issues.length - 3} more)` : ''}`, { issues });
}

/** `CrmError.toJSON()`: what a rejected command's verdict and an error response carry. */
export type CrmErrorJson = ReturnType<CrmError['toJSON']>;

/** `CONFLICT` of a command whose version was predicted from the device's command `seq`, which was rejected (review13 R3). */
export function predecessorConflict(name: string, seq: number, entity: string, id: string, expectedVersion: number | null, actualVersion: number | null): CrmError<'CONFLICT'> {
  const message = `${name} was predicted from this device's command ${seq}, which was rejected: ${entity} ${id} is not in the state the user saw`;
  return new CrmError('CONFLICT', message, { entity, id, expectedVersion, actualVersion, reason: 'predecessorRejected' });
}

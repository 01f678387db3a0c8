import * as z from 'zod/mini';
import { int } from '../schema/primitives.js';
import { conflict } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';

/** The optional `version` a caller passes to make a change conditional. */
export const versionOptionSchema = z.optional(z.number().check(int(), z.gte(1)));

/**
 * Fails with `CONFLICT` when the caller's version is stale. The storage write repeats the check
 * atomically, so a change racing in between is caught too.
 */
export function assertExpectedVersion(entity: string, record: RecordBase, expected: number | undefined): void {
  if (expected !== undefined && expected !== record.version) throw conflict(entity, record.id, expected, record.version);
}

import { isCrmError } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { COMMANDS } from '../protocol/commands.js';
import { invalid, type CrmErrorJson } from '../protocol/errors.js';
import type { Command } from '../protocol/messages.js';
import { readState } from './sync-state.js';

/**
 * Whether the device leaves its own run's failure to the server (design sync.md §8, review13 R6): a
 * failure that is no `CrmError` (a service met a row it cannot handle: fields the server projected
 * away), or a `RULE_VIOLATION` when the user receives rows field-projected (a rule's input may be
 * hidden from the device; "the server's verdict wins"), or a `VALIDATION` made only of `required`
 * issues for such a user (a required field may be one the server hides, review13b B3). The command is
 * then recorded, pushed and judged there; until then the device shows the record as it was. Other input
 * errors, missing records and conflicts do not depend on hidden fields: they still throw.
 */
export async function leftToServer(tx: StorageTx, tenantId: string, error: unknown): Promise<boolean> {
  if (!isCrmError(error)) return true;
  // A `required` value the device lacks may be one the server hides from this user (review13b B3).
  const hidden = isCrmError(error, 'RULE_VIOLATION') || (isCrmError(error, 'VALIDATION') && error.details.issues.every((i) => i.code === 'required'));
  return hidden && !!(await readState(tx, tenantId))?.projected?.length;
}

/** A command's `localError`: the `CrmError`'s JSON, anything else as `VALIDATION` issue code `not_judged`. */
export function localErrorOf(name: string, error: unknown): CrmErrorJson {
  if (isCrmError(error)) return error.toJSON();
  const cause = String((error as { message?: unknown } | undefined)?.message ?? error).slice(0, 200);
  return invalid(name, [{ path: [], code: 'not_judged', message: `the device could not run it (${cause}): the server decides` }]).toJSON();
}

/**
 * Stands in for the effect of a command left to the server: the record it changes gets the next
 * version (the one the server gives it when it applies the command), so a later funnel move carries
 * the version the server will have. Written in a command transaction (a shadow keeps the base; the
 * rebase restores it).
 *
 * @returns The record as the device now holds it; `undefined` for a create or a record the device lacks.
 */
export async function touchRecord(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<Row | undefined> {
  const spec = COMMANDS[command.name];
  const id = command.args[0];
  if (spec.creates || typeof id !== 'string') return undefined;
  const [row] = await tx.getMany(spec.entity, tenantId, [id]);
  if (!row) return undefined;
  const next = { ...row, version: row.version + 1 };
  await tx.write(spec.entity, tenantId, [{ type: 'update', row: next, expectedVersion: row.version }]);
  return next;
}

import { isCrmError } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { COMMANDS } from '../protocol/commands.js';
import { invalid, type CrmErrorJson } from '../protocol/errors.js';
import type { Command } from '../protocol/messages.js';
import { HiddenFieldRead } from './hidden-fields.js';
import { readState } from './sync-state.js';

/**
 * Why a command was left to the server (`execute().deferred`, `status().deferred`; design sync.md §24):
 * `hidden_field` — the user receives the record's rows field-projected and the device's run read a field
 * this user may not read that decides the outcome, or a rule or `required` check refused it (its input
 * may be hidden); `not_judged` — the device's run failed with no `CrmError` (a device fault). Either way
 * the command is recorded and pushed, and the server's verdict decides.
 */
export type DeferReason = 'hidden_field' | 'not_judged';

/**
 * Whether the device leaves its own run's failure to the server (design sync.md §8, §24, review13 R6,
 * review13b B2/B3), and why: a failure that is no `CrmError`; a read of a hidden field that decides the
 * outcome (`HiddenFieldRead`); a `RULE_VIOLATION`, or a `VALIDATION` made only of `required` issues,
 * when the user receives rows field-projected. Other input errors, missing records and conflicts do not
 * depend on hidden fields: they still throw (`undefined`).
 */
export async function leftToServer(tx: StorageTx, tenantId: string, error: unknown): Promise<DeferReason | undefined> {
  if (error instanceof HiddenFieldRead) return 'hidden_field';
  if (!isCrmError(error)) return 'not_judged';
  const hidden = isCrmError(error, 'RULE_VIOLATION') || (isCrmError(error, 'VALIDATION') && error.details.issues.every((i) => i.code === 'required'));
  return hidden && (await readState(tx, tenantId))?.projected?.length ? 'hidden_field' : undefined;
}

/**
 * A command's `localError`: the `CrmError`'s JSON; a hidden field's read as `VALIDATION` issue code
 * `hidden_field` at that field; anything else as issue code `not_judged` (no fault text: the device logs it).
 */
export function localErrorOf(name: string, error: unknown): CrmErrorJson {
  if (isCrmError(error)) return error.toJSON();
  if (error instanceof HiddenFieldRead) return invalid(name, [{ path: [error.field], code: 'hidden_field', message: `left to the server: it ${error.message}` }]).toJSON();
  return invalid(name, [{ path: [], code: 'not_judged', message: 'left to the server: the device could not run it' }]).toJSON();
}

/**
 * The record a command left to the server names, as the device holds it: unchanged, at the version it
 * had (design sync.md §25). The device cannot know what the command does on the server (a no-op, or
 * writes to the record's tasks and parent), so it predicts nothing: a later versioned command carries the
 * version the user saw, and the server accepts it when every write since was this client's own.
 *
 * @returns The record; `undefined` for a create or a record the device lacks.
 */
export async function touchRecord(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<Row | undefined> {
  const spec = COMMANDS[command.name];
  const id = command.args[0];
  if (spec.creates || typeof id !== 'string') return undefined;
  return (await tx.getMany(spec.entity, tenantId, [id]))[0];
}

import { isCrmError } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { COMMANDS, type CommandName } from '../protocol/commands.js';
import { invalid, type CrmErrorJson } from '../protocol/errors.js';
import type { Command } from '../protocol/messages.js';
import { listCommands, type DeferReason } from './command-log.js';
import { fieldRules, HiddenFieldRead } from './hidden-fields.js';
import { readState } from './sync-state.js';

export type { DeferReason } from './command-log.js';

/** The deal field a stage rule without `field` looks at (core's `checkStageRule`). */
const RULE_FIELDS: Readonly<Record<string, string>> = { amountPositive: 'value', hasLineItems: 'lineItems', hasContact: 'contactId', hasCompany: 'companyId' };

/** Ids of the records that standing creates left to the server make (the device lacks them until the pull). */
export async function deferredCreates(tx: StorageTx, tenantId: string): Promise<Set<string>> {
  const standing = await listCommands(tx, tenantId, ['pending', 'accepted']);
  return new Set(standing.flatMap((c) => (c.deferred && COMMANDS[c.name].creates ? [(c.args[0] as { id: string }).id] : [])));
}

/**
 * Whether the device leaves its own run's failure to the server (design sync.md §8, §24, review13 R6,
 * review13b B2/B3, review13c C2, fix13h), and why: a failure that is no `CrmError`; a read of a hidden field
 * that decides the outcome (`HiddenFieldRead`); a `RULE_VIOLATION` each of whose violations looks at a
 * field the server hides (a stage rule's field; `amountPositive` the value), or a `VALIDATION` made
 * only of `required` issues at hidden fields (the row lacks them); a `NOT_FOUND` of, or `not_found`
 * links to, records that creates left to the server make (`awaits_record`, when that is all). Every
 * other refusal — a rule on fields the user reads, a readable required field missing, input errors,
 * missing records, conflicts — is the server's verdict too: it throws (`undefined`).
 *
 * @param args The command's arguments (a link's id is read from its input).
 */
export async function leftToServer(tx: StorageTx, tenantId: string, name: CommandName, args: readonly unknown[], error: unknown): Promise<DeferReason | undefined> {
  if (error instanceof HiddenFieldRead) return 'hidden_field';
  if (!isCrmError(error)) return 'not_judged';
  const rules = fieldRules((await readState(tx, tenantId))?.hidden ?? {});
  const { entity, creates } = COMMANDS[name];
  const hidden = (on: string, field: unknown) => typeof field === 'string' && !rules.readable(on, field);
  if (isCrmError(error, 'RULE_VIOLATION')) {
    return error.details.violations.every((v) => hidden(v.rule.startsWith('stage.') ? 'deal' : entity, v.data?.field ?? RULE_FIELDS[v.rule.split('.')[2]!])) ? 'hidden_field' : undefined;
  }
  // Ids the creates left to the server (and not yet pulled) make: the device lacks those records until the pull.
  const made = await deferredCreates(tx, tenantId);
  if (isCrmError(error, 'NOT_FOUND')) return made.has(error.details.id) ? 'awaits_record' : undefined;
  if (!isCrmError(error, 'VALIDATION')) return undefined;
  const input = (creates ? args[0] : args[1]) as Record<string, unknown> | undefined;
  const awaited = (i: { code: string; path: readonly PropertyKey[] }) => i.code === 'not_found' && made.has(input?.[String(i.path[0])] as string);
  const issues = error.details.issues;
  if (issues.every((i) => i.code === 'required' && hidden(entity, i.path.join('.')))) return 'hidden_field';
  return issues.every((i) => awaited(i) || (i.code === 'required' && hidden(entity, i.path.join('.')))) ? 'awaits_record' : undefined;
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
 * A create left to the server makes no record on the device until the pull (fix13h): it resolves with
 * its input as recorded — `{ id, …input }`, the id the device chose, so the user can link to it (a call
 * logged on it is left to the server too, `awaits_record`). The input holds no hidden field (a write of
 * one is refused, `hiddenWrite`); it is no stored record: no version, no defaults.
 *
 * @returns The record; a create's input; `undefined` for a record the device lacks.
 */
export async function touchRecord(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<Row | undefined> {
  const spec = COMMANDS[command.name];
  const id = command.args[0];
  if (spec.creates) return command.args[0] as Row;
  if (typeof id !== 'string') return undefined;
  return (await tx.getMany(spec.entity, tenantId, [id]))[0];
}

import { isCrmError, type CrmContext } from '@crmkit/core';
import { projectResult } from '@crmkit/core/access';
import type { StorageTx } from '@crmkit/core/storage';
import { createCommandIds, newSeed } from '../protocol/command-ids.js';
import { COMMANDS, createIdIssues, pinnedClock, runCommand, type CommandName, type SyncableCrm } from '../protocol/commands.js';
import { invalid } from '../protocol/errors.js';
import { commandSchema, type Command } from '../protocol/messages.js';
import { parseWith } from '../protocol/parse.js';
import { changeKey } from '../protocol/synced-entities.js';
import { boundStorage } from '../server/bound-storage.js';
import { heldEvents } from '../server/held-events.js';
import { fieldRules, placeholderTx, shownEvent } from './hidden-fields.js';
import { deviceGuard, grantRefusal } from './device-grants.js';
import { checkedFirst, hiddenWrite } from './hidden-writes.js';
import type { ShadowRow } from './replica-storage.js';
import { readState } from './sync-state.js';

type Args = readonly unknown[];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A new command from a call (design sync.md §8): its time and seed, the id of a create filled from the
 * crm's generator; args copied as JSON (the log keeps what was called).
 *
 * @throws CrmError `VALIDATION`: `unknown_command` (not one of `COMMAND_NAMES`), `sync_unsupported`
 *   (`leads.create` with `assignWith`: strategies run on the server), the command's shape (arity, id shapes, `client_id_format` of a given id).
 */
export function prepareCommand(ctx: CrmContext, name: CommandName, args: Args): Omit<Command, 'seq'> {
  if (!Object.hasOwn(COMMANDS, name)) throw invalid('sync.execute', [{ path: ['name'], code: 'unknown_command', message: `"${String(name).slice(0, 100)}" is not a pushable command (COMMAND_NAMES)` }]);
  const at = ctx.clock.now();
  const spec = COMMANDS[name];
  // Trailing optional arguments passed as undefined are absent (JSON would turn them into null).
  const given = [...(args ?? [])];
  while (given.length && given.at(-1) === undefined) given.pop();
  let copy = JSON.parse(JSON.stringify(given)) as unknown[];
  if (name === 'leads.create' && isObject(copy[1]) && copy[1].assignWith !== undefined) {
    throw invalid(name, [{ path: ['args', 1, 'assignWith'], code: 'sync_unsupported', message: 'assignment strategies run on the server only' }]);
  }
  // `leads.create(input, options)`: an options bag without `assignWith` says nothing the server runs.
  if (spec.creates && copy.length === 2 && isObject(copy[1]) && !Object.keys(copy[1]).length) copy = copy.slice(0, 1);
  if (spec.creates && isObject(copy[0])) {
    const input = { ...copy[0] };
    input.id ??= ctx.newId(spec.creates, at);
    copy = [input, ...copy.slice(1)];
  }
  const command = parseWith(commandSchema, { seq: 1, name, args: copy, at, seed: newSeed(ctx.random) }, name);
  parseWith(spec.args, command.args, name, ['args']);
  const issues = createIdIssues(spec, command.args);
  if (issues.length) throw invalid(name, issues);
  const { seq: _, ...rest } = command;
  return rest;
}

/**
 * Fills `version` of a state transition from the record's live row (the version the server will have
 * after the device's earlier pending commands) unless the caller gave one: "advanced on one device, lost
 * on the other" then rejects the second with `CONFLICT`. A command carrying a version of a record that
 * earlier pending commands changed (it has a shadow) names them in `after`: the version is their
 * prediction, and holds only if they all apply (review13 R3).
 */
export async function withVersion(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<Omit<Command, 'seq'>> {
  const { versioned, target } = COMMANDS[command.name];
  const [id, options] = command.args as [string, Record<string, unknown> | undefined];
  if (!target || (!versioned && options?.version === undefined)) return command;
  const [[row], [shadow]] = await Promise.all([tx.getMany(target, tenantId, [id]), tx.getMany('syncShadow', tenantId, [changeKey(target, id)])]);
  if (!row) return command;
  const after = (shadow as ShadowRow | undefined)?.seqs;
  const args = options?.version === undefined ? [id, { ...options, version: row.version }, ...command.args.slice(2)] : command.args;
  return { ...command, args, ...(after?.length ? { after } : {}) };
}

/**
 * Runs a command's service on the device inside `tx` (a command transaction), at its time `at` and with
 * ids derived from its `(at, seed)` like the server's run (first run and replays alike). Events are
 * held: `release` emits them after commit. Rows of entities whose fields the server hides from the user
 * are read with placeholders for them (`placeholderTx`, review13b B2); the result and the events show
 * no hidden field, as a view's would (review13c C1); a write of a hidden field is refused with the
 * `FORBIDDEN` a view gives (`hiddenWrite`).
 *
 * @throws The service's `CrmError` (the transaction rolls back); `FORBIDDEN` for a write of a field the user may not read; `HiddenFieldRead` when it read a hidden field that decides its outcome.
 */
export async function runLocal(ctx: CrmContext, tx: StorageTx, command: Omit<Command, 'seq'>): Promise<{ result: unknown; release(): void }> {
  const state = await readState(tx, ctx.tenantId);
  const hidden = state?.hidden ?? {};
  const userId = ctx.actor?.userId ?? '';
  const guard = deviceGuard(state?.rights, userId);
  // Always: the view's projection drops core's internal keys (`parentOwner`) too (review13d D3).
  const rules = fieldRules(hidden);
  const granted = guard && (await grantRefusal(guard, tx, ctx.tenantId, command, userId));
  tx = placeholderTx(tx, hidden, ctx.defaultCurrency, rules);
  // Handlers hear what the user may see (no placeholder amount in `deal.won`), as a view's would.
  const bus = Object.create(ctx.bus) as typeof ctx.bus;
  bus.emitAll = (events, rows) => ctx.bus.emitAll(events.map((e) => shownEvent(e, rules)), rows);
  const events = heldEvents(bus);
  const ids = createCommandIds(command.at, command.seed);
  const view = ctx.scope!({ storage: boundStorage(ctx.storage, tx), bus: events.bus, bound: true, clock: pinnedClock(ctx.clock, command.at), newId: (entity, nowMs) => (entity === 'event' ? ctx.newId(entity, nowMs) : ids(entity)) }, undefined);
  // A write of a hidden (or write-denied) field is refused as core refuses it online, after the checks core makes first (fix13h).
  const { entity, target } = COMMANDS[command.name];
  const refusal = hiddenWrite(command.name, command.args, hidden, userId, guard);
  // Core judges a record's scope right after reading it (`requireFor`), a create's owner last (`checkWritten`).
  const first = target ? (granted ?? refusal) : (refusal ?? granted);
  const result = await runCommand(view as SyncableCrm, command.name, command.args).catch((error: unknown) => {
    if (target && granted && !(checkedFirst(error, command.args, hidden, entity) && !isCrmError(error, 'CONFLICT'))) throw granted;
    throw refusal && !checkedFirst(error, command.args, hidden, entity) ? refusal : error;
  });
  if (first) throw first;
  const [path, method] = command.name.split('.') as [string, string];
  // The record as the user may see it, as `crm.as(user)` returns it (review13c C1).
  return { result: projectResult(path, method, result, rules, command.args), release: events.release };
}

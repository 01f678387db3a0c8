import { isCrmError, type CrmContext } from '@crmkit/core';
import { projectResult } from '@crmkit/core/access';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { createCommandIds, newSeed } from '../protocol/command-ids.js';
import { COMMANDS, createIdIssues, pinnedClock, runCommand, type CommandName, type SyncableCrm } from '../protocol/commands.js';
import { invalid } from '../protocol/errors.js';
import { commandSchema, type Command } from '../protocol/messages.js';
import { parseWith } from '../protocol/parse.js';
import { changeKey } from '../protocol/synced-entities.js';
import { boundStorage } from '../server/bound-storage.js';
import { heldEvents } from '../server/held-events.js';
import { deferredCreates } from './defer-command.js';
import { fieldRules, placeholderTx, shownEvent } from './hidden-fields.js';
import { deviceGuard, grantRefusal } from './device-grants.js';
import { checkedFirst, hiddenWrite } from './hidden-writes.js';
import { shownVersion, type ShadowRow } from './replica-storage.js';
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
 * The server version a record's local view rests on: its shadow's (`shownVersion`: the base the live row
 * was built on, kept while a pull is between pages — review13e E4), else the live row's (the last pulled).
 */
const baseVersion = (row: Row, shadow: ShadowRow | undefined): number => (shadow ? shownVersion(shadow) : row.version);

/** The record `args[0]` of `command` and its shadow, when the command names one the device holds. */
async function targetOf(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<[Row, ShadowRow | undefined] | undefined> {
  const { target } = COMMANDS[command.name];
  if (!target) return undefined;
  const id = command.args[0] as string;
  const [[row], [shadow]] = await Promise.all([tx.getMany(target, tenantId, [id]), tx.getMany('syncShadow', tenantId, [changeKey(target, id)])]);
  return row ? [row, shadow as ShadowRow | undefined] : undefined;
}

const withOption = (args: Args, version: number): Args => [args[0], { ...(args[1] as object | undefined), version }, ...args.slice(2)];

/**
 * Fills `version` of a state transition unless the caller gave one, and sends the *server* version the
 * user's view rests on (design sync.md §25, fix13i): the shadow's base when pending commands changed the
 * record, else the live row's (the last pulled) — never the device's prediction of its own writes, whose
 * numbers can coincide with a foreign write's (review13d D7, D5) or overshoot the server's (D2). A given
 * version equal to the live row's is the same view: sent as its base. The server takes it when every
 * write since was this client's own.
 */
export async function withVersion(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<Omit<Command, 'seq'>> {
  const given = (command.args[1] as { version?: unknown } | undefined)?.version;
  if (!COMMANDS[command.name].versioned && given === undefined) return command;
  const found = await targetOf(tx, tenantId, command);
  // A record a create left to the server makes (not yet pulled): its first version, as for a pending create the device ran (review13e E3).
  if (!found) return given === undefined && (await deferredCreates(tx, tenantId)).has(command.args[0] as string) ? { ...command, args: withOption(command.args, 1) } : command;
  const [row, shadow] = found;
  // A version the device predicted and a rebase retired rests on that range's base (review13e E1); the current prediction wins.
  const retired = given === undefined || (shadow && given === row.version) ? undefined : (await retiredRanges(tx, tenantId, command)).find(([base, upTo]) => base < (given as number) && (given as number) <= upTo);
  if (retired) return { ...command, args: withOption(command.args, retired[0]) };
  if (given !== undefined && given !== row.version) return command;
  return { ...command, args: withOption(command.args, baseVersion(row, shadow)) };
}

/** The retired prediction ranges of the record `args[0]` names (`SyncState.retired`). */
async function retiredRanges(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<readonly (readonly [number, number])[]> {
  const { target } = COMMANDS[command.name];
  return (target && (await readState(tx, tenantId))?.retired?.[changeKey(target, command.args[0] as string)]) || [];
}

/**
 * The args the device runs: a sent version equal to the record's base runs at the live row's version
 * (the device's own pending writes since are its own, as the server's §25 rule takes them); any other
 * version is checked as given (a foreign write pulled since: the device's `CONFLICT` is the server's).
 */
async function localArgs(tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>): Promise<Args> {
  const version = (command.args[1] as { version?: unknown } | undefined)?.version;
  const found = typeof version === 'number' ? await targetOf(tx, tenantId, command) : undefined;
  if (found && found[1] && version === baseVersion(...found)) return withOption(command.args, found[0].version);
  // The base of a retired prediction: the writes since may be this client's confirmed ones, which only the server can tell (E1).
  const retiredBase = found && (await retiredRanges(tx, tenantId, command)).some(([base]) => base === version);
  return retiredBase ? withOption(command.args, found[0].version) : command.args;
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
export async function runLocal(ctx: CrmContext, tx: StorageTx, sent: Omit<Command, 'seq'>): Promise<{ result: unknown; release(): void }> {
  const command = { ...sent, args: await localArgs(tx, ctx.tenantId, sent) };
  const state = await readState(tx, ctx.tenantId);
  const hidden = state?.hidden ?? {};
  const userId = ctx.actor?.userId ?? '';
  const guard = deviceGuard(state?.rights, userId);
  // Always: the view's projection drops core's internal keys (`parentOwner`) too (review13d D3).
  const rules = fieldRules(hidden);
  const granted = guard && (await grantRefusal(guard, tx, ctx.tenantId, command, userId, hidden));
  tx = placeholderTx(tx, hidden, ctx.defaultCurrency, rules, command.name.split('.')[0]!);
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

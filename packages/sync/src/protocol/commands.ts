import type { Clock, Crm, ValidationIssue } from '@crmkit/core';
import * as z from 'zod/mini';
import { clientRecordIdPattern } from './command-ids.js';
import type { SyncedEntity } from './synced-entities.js';

/** The crm a command runs on: core services plus tasks and activities (both sides install those features). */
export interface SyncableCrm extends Crm {
  readonly tasks: Record<string, (...args: never[]) => Promise<unknown>>;
  readonly activities: Record<string, (...args: never[]) => Promise<unknown>>;
}

/**
 * A pushable service method (design sync.md §5). `args` checks arity and id shapes only: the service
 * judges the contents (`parseInput`), so device and server give one verdict.
 */
export interface CommandSpec {
  /** `service.method`, e.g. `deals.advance`. */
  readonly name: CommandName;
  readonly args: z.ZodMiniType<readonly unknown[]>;
  /** The entity of the record the command makes or changes (`args[0]`'s id, or the created record's). */
  readonly entity: SyncedEntity;
  /**
   * A state transition whose meaning depends on the state the user saw: the device fills
   * `args[1].version` from its local row of `entity` `args[0]` unless the caller gave one.
   */
  readonly versioned?: SyncedEntity;
  /** The entity of the record `args[0]` names (every command but creates): a `version` in `args[1]` is that record's. */
  readonly target?: SyncedEntity;
  /** The entity a create makes: the device fills `args[0].id`, the server requires the client id format. */
  readonly creates?: SyncedEntity;
}

/** The 26 pushable methods. */
export const COMMAND_NAMES = [
  'deals.create', 'deals.update', 'deals.advance', 'deals.postpone', 'deals.lose', 'deals.win', 'deals.reopen', 'deals.remove',
  'leads.create', 'leads.update', 'leads.qualify', 'leads.disqualify', 'leads.convert', 'leads.remove',
  'contacts.create', 'contacts.update', 'contacts.remove',
  'companies.create', 'companies.update', 'companies.remove',
  'tasks.create', 'tasks.update', 'tasks.complete', 'tasks.postpone', 'tasks.cancel',
  'activities.log',
] as const;

/** The name of a pushable method. */
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Core's record id shape (`idSchema`): ids of existing records may be host-chosen. */
const recordId = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-"'));
const object = z.looseObject({});

const SERVICE_ENTITY: Readonly<Record<string, SyncedEntity>> = { deals: 'deal', leads: 'lead', contacts: 'contact', companies: 'company', tasks: 'task', activities: 'activity' };
const CREATES = new Set(['create', 'log']);
const VERSIONED = new Set(['advance', 'postpone', 'lose', 'win', 'reopen', 'remove', 'qualify', 'disqualify', 'convert', 'complete', 'cancel']);

/**
 * Checks the id a pushed create carries (required: the device chooses it, design sync.md §5).
 *
 * @returns `VALIDATION` issues at `args.0.id`, code `client_id_format`; none when it is well-formed or the command creates nothing.
 */
export function createIdIssues(spec: CommandSpec, args: readonly unknown[]): ValidationIssue[] {
  if (!spec.creates) return [];
  const pattern = clientRecordIdPattern(spec.creates);
  const id = (args[0] as { id?: unknown }).id;
  if (typeof id === 'string' && pattern.test(id)) return [];
  return [{ path: ['args', 0, 'id'], code: 'client_id_format', message: `must be "${pattern.source.slice(1, pattern.source.indexOf('_') + 1)}" and 22 upper-case Crockford base32 characters` }];
}

function spec(name: CommandName): CommandSpec {
  const [service, method] = name.split('.') as [string, string];
  const entity = SERVICE_ENTITY[service]!;
  if (CREATES.has(method)) return { name, entity, args: z.tuple([object]), creates: entity };
  if (method === 'update') return { name, entity, args: z.tuple([recordId, object]), target: entity };
  return { name, entity, args: z.tuple([recordId, z.optional(object)]), target: entity, ...(VERSIONED.has(method) ? { versioned: entity } : {}) };
}

/** Every pushable method by name. */
export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = Object.fromEntries(COMMAND_NAMES.map((name) => [name, spec(name)])) as Record<CommandName, CommandSpec>;

/** How far back the server dates a pushed command by default: 7 days (`createSyncServer({ maxCommandAgeMs })`). */
export const MAX_COMMAND_AGE_MS = 7 * 86_400_000;

/**
 * The business time a command runs at (design sync.md §5): when the user ran it (`at`, device ms),
 * never before `floor` (the time of the client's previous command) nor `maxAgeMs` before `now`, never
 * after `now` (the server's clock). The device runs it at its own `at` (already ≥ its previous one).
 */
export function commandTime(at: number, floor: number, now: number, maxAgeMs: number): number {
  return Math.min(now, Math.max(at, floor, now - maxAgeMs));
}

/** `clock` with `now()` pinned to `ms`: a command's operations read one time, on the device and the server. */
export function pinnedClock(clock: Clock, ms: number): Clock {
  return { now: () => ms, setTimer: (fn, delayMs) => clock.setTimer(fn, delayMs) };
}

/**
 * Runs a command's service method on `crm` (a view, scoped to the command's transaction and ids).
 *
 * @returns What the service returned.
 * @throws What the service throws (`CrmError`).
 */
export function runCommand(crm: SyncableCrm, name: CommandName, args: readonly unknown[]): Promise<unknown> {
  const [service, method] = name.split('.') as [string, string];
  const api = (crm as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>)[service]!;
  return api[method]!(...args);
}

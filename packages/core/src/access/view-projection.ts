import { CrmError } from '../errors/crm-error.js';
import type { AccessGuard } from '../crm/access-guard.js';

/** Turns a method's result into what the principal may see. */
type Projector = (result: unknown, guard: Pick<AccessGuard, 'project'>, args: readonly unknown[]) => unknown;

const record =
  (entity: string): Projector =>
  (result, guard) =>
    result && typeof result === 'object' ? guard.project(entity, result) : result;
const list =
  (entity: string): Projector =>
  (result, guard) =>
    Array.isArray(result) ? result.map((r: object) => guard.project(entity, r)) : result;
const page =
  (entity: string): Projector =>
  (result, guard) => {
    const p = result as { items: object[]; nextCursor?: string };
    return { ...p, items: p.items.map((r) => guard.project(entity, r)) };
  };
/** Results that hold no field of a record, or were projected where they were computed. */
const none: Projector = (result) => result;
/** Refused in a view: system jobs run on the crm itself (`sync`: the method returns no promise). */
const systemOnly = 'systemOnly' as const;
const systemOnlySync = 'systemOnlySync' as const;
/** Tenant administration (webhooks, identity settings): in a view it needs the policy's `setting: update` grant. */
const tenantAdmin = 'tenantAdmin' as const;
type Rule = Projector | typeof systemOnly | typeof systemOnlySync | typeof tenantAdmin;

const pick =
  (shape: Readonly<Record<string, string>>, lists: Readonly<Record<string, string>> = {}): Projector =>
  (result, guard) => {
    if (!result || typeof result !== 'object') return result;
    const out: Record<string, unknown> = { ...(result as Record<string, unknown>) };
    for (const [key, entity] of Object.entries(shape)) if (out[key] && typeof out[key] === 'object') out[key] = guard.project(entity, out[key] as object);
    for (const [key, entity] of Object.entries(lists)) if (Array.isArray(out[key])) out[key] = (out[key] as object[]).map((r) => guard.project(entity, r));
    return out;
  };

/** `getByExternalRef` / `upsertByExternalRef` of an entity (issue 16). */
const REFS = (entity: string) => ({ getByExternalRef: record(entity), upsertByExternalRef: pick({ record: entity }) });
const CARD = (entity: string) => ({ create: record(entity), get: record(entity), update: record(entity), list: page(entity), remove: none, ...REFS(entity) });

/**
 * How every method of a view's API is projected, by API (`deals`, `reports`, …) and method. Every
 * method of the core services and of the features is listed (a test checks it), so a new method
 * cannot hand out unprojected records by omission.
 */
export const VIEW_PROJECTIONS: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  leads: {
    ...CARD('lead'),
    qualify: record('lead'),
    disqualify: record('lead'),
    convert: pick({ lead: 'lead', contact: 'contact', company: 'company', deal: 'deal' }),
    merge: none, // the merges feature projects what it returns
  },
  contacts: { ...CARD('contact'), merge: none },
  companies: { ...CARD('company'), merge: none },
  deals: {
    ...CARD('deal'),
    board: (result, guard) => {
      const board = result as { columns: { deals: object[] }[] };
      return { ...board, columns: board.columns.map((c) => ({ ...c, deals: c.deals.map((d) => guard.project('deal', d)) })) };
    },
    stageHistory: list('stageVisit'), // drops the bookkeeping copies of the deal's owner and shares
    aggregate: none,
    advance: record('deal'),
    postpone: record('deal'),
    lose: record('deal'),
    win: record('deal'),
    reopen: record('deal'),
  },
  pipelines: { create: none, get: none, update: none, addStage: none, updateStage: none, reorderStages: none, removeStage: none, list: none },
  duplicates: { find: none, reindex: systemOnly }, // find: projected and scored on what the principal may read, where computed
  // Merges: the survivor and the log entry's snapshots are projected where they are computed.
  merges: { contacts: none, companies: none, leads: none, get: none, list: none, undo: none },
  imports: { deals: list('deal'), contacts: list('contact'), companies: list('company'), leads: list('lead') },
  customFields: { define: none, update: none, list: none },
  activities: { log: record('activity'), get: record('activity'), list: page('activity'), ...REFS('activity') },
  eventLog: { list: none }, // events are judged and projected as they are read
  funnel: { check: none },
  assignment: { createStrategy: none, updateStrategy: none, getStrategy: none, listStrategies: none, assign: (result, guard, args) => record((args[0] as { type: string }).type)(result, guard, args) },
  calendar: { get: none, set: none },
  tasks: {
    ...REFS('task'),
    create: record('task'),
    get: record('task'),
    list: page('task'),
    complete: pick({ task: 'task' }, { created: 'task' }),
    postpone: record('task'),
    cancel: record('task'),
    update: record('task'),
    agenda: pick({}, { overdue: 'task', today: 'task', upcoming: 'task' }),
    workload: none,
    defineType: none,
    listTypes: none,
  },
  crm: { timeline: none },
  reports: {
    funnel: none,
    velocity: none,
    forecast: none,
    performance: none,
    customers: none,
    drill: (result, guard, args) => page((args[0] as { entity: string }).entity)(result, guard, args),
  },
  scoring: { model: none, score: none, apply: none },
  scheduler: { tick: systemOnly, start: systemOnlySync, stop: systemOnly, nextWakeAt: systemOnly },
  // The feed of a view acts for its principal (events judged and projected as they are read or
  // delivered, consumers per principal); pruning deletes for everyone and runs on the crm.
  events: {
    read: none,
    head: none,
    consume: none,
    status: none,
    consumers: none,
    parked: none,
    replay: none,
    discard: none,
    remove: none,
    prune: systemOnly,
  },
  // Endpoints receive every event of the tenant: administering them is tenant administration.
  webhooks: {
    create: tenantAdmin,
    get: tenantAdmin,
    list: tenantAdmin,
    update: tenantAdmin,
    enable: tenantAdmin,
    remove: tenantAdmin,
    secret: tenantAdmin,
    rotateSecret: tenantAdmin,
    deliveries: tenantAdmin,
    replay: tenantAdmin,
    status: tenantAdmin,
    pruneDeliveries: systemOnly,
    start: systemOnlySync,
    stop: systemOnly,
    drain: systemOnly,
  },
  identity: { get: none, set: tenantAdmin, reindex: systemOnly },
};

/**
 * A method's result as a principal whose records `rules.project` projects sees it: the same
 * projection a view applies (`VIEW_PROJECTIONS`). A sync device runs a command's service unguarded
 * and projects its result with the fields the server hides (design sync.md §24).
 *
 * @param path The API (`deals`). @param method Its method (`update`). @param args The call's arguments.
 * @returns The projected result; `result` itself for a method whose result holds no record field.
 */
export function projectResult(path: string, method: string, result: unknown, rules: Pick<AccessGuard, 'project'>, args: readonly unknown[]): unknown {
  const projector = VIEW_PROJECTIONS[path]?.[method];
  return typeof projector === 'function' ? projector(result, rules, args) : result;
}

function refuseSystemJob(path: string, method: string): never {
  throw new CrmError('FORBIDDEN', `${path}.${method} runs as the system: call it on the crm, not on a view`, { action: `${path}.${method}`, reason: 'system job' });
}

/**
 * Wraps an API object of a view so each listed method's result is projected with the guard of the
 * view's operation; system jobs are refused, tenant administration needs the
 * `setting: update` grant. Unlisted APIs (observers, access) pass through: they read through wrapped services.
 */
export function wrapViewApi<T extends object>(path: string, api: T, guardOf: () => Promise<AccessGuard | undefined>): T {
  const table = VIEW_PROJECTIONS[path];
  if (!table) return api;
  const refusal = (method: string, kind: Rule): (() => never) | undefined =>
    kind === systemOnly || kind === systemOnlySync ? () => refuseSystemJob(path, method) : undefined;
  if (Object.values(table).every((p) => p === systemOnly || p === systemOnlySync)) {
    // Refused as a whole: nothing of the instance is reachable from a view.
    const refused: Record<string, unknown> = { running: false };
    for (const [method, kind] of Object.entries(table)) {
      const refuse = refusal(method, kind)!;
      refused[method] = kind === systemOnlySync ? refuse : async () => refuse();
    }
    return refused as T;
  }
  const wrapped = Object.create(api) as Record<string, unknown>;
  for (const [method, projector] of Object.entries(table)) {
    const original = (api as Record<string, unknown>)[method];
    if (typeof original !== 'function' || projector === none) continue;
    const refuse = refusal(method, projector);
    if (refuse) {
      wrapped[method] = projector === systemOnlySync ? refuse : async () => refuse();
      continue;
    }
    if (projector === tenantAdmin) {
      wrapped[method] = async (...args: unknown[]) => {
        (await guardOf())?.require('setting', 'update');
        return (original as (...a: unknown[]) => Promise<unknown>).apply(api, args);
      };
      continue;
    }
    const project = projector as Projector;
    wrapped[method] = async (...args: unknown[]) => {
      const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(api, args);
      const guard = await guardOf();
      return guard ? project(result, guard, args) : result;
    };
  }
  return wrapped as T;
}

import { CrmError, validationError } from '../errors/crm-error.js';
import type { AccessAction, AccessGuard, Principal } from '../crm/access-guard.js';
import type { CrmEvent } from '../events/event-map.js';
import { encodeCursor } from '../query/cursor.js';
import { matchFilter } from '../query/match.js';
import type { Filter, QuerySpec } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { Row } from '../storage/storage-adapter.js';
import { PARENT_TYPES, type ParentType } from '../domain/parent-access.js';
import {
  BASE_FIELDS,
  ENTITY_ACTIONS,
  OWNED_ENTITIES,
  revealSources,
  SHARED_ENTITIES,
  subjectEntity,
  topField,
  VISIT_FIELDS,
  WHOLE_ENTITIES,
  WRITE_SHARE_ACTIONS,
  type PolicyEntity,
  type Scope,
} from './access-model.js';
import type { AccessPolicy, AccessRole, FieldRule } from './access-policy.js';
import type { DirectoryIndex } from './access-directory.js';
import { sharedTeamKey } from './owner-keys.js';
import { EVENT_TYPE_FIELDS, linkShown, projectEventData } from './project-event.js';

/** Bookkeeping copies of a parent's owner and shares on tasks, activities and stage visits. */
const PARENT_ACCESS_FIELDS = ['parentOwner', 'parentShareKeys'] as const;
const isParentAccessField = (field: string): boolean => field === 'parentOwner' || field === 'parentShareKeys';

/**
 * Refuses the field paths (`value.amount`, `custom.budget`) of `entity` that `test` denies — by top-level
 * field; the parent's owner and shares always — as every view does (`checkReadFields`/`checkWriteFields`),
 * and a sync device with the server's hidden list (design sync.md §24).
 *
 * @param test Whether a top-level field is allowed; `undefined`: every one (no field rules).
 * @throws CrmError `FORBIDDEN` (`details.fields`: the refused fields, sorted) — `<context>: <user> may not write value of deal`.
 */
export function refuseFields(userId: string, entity: string, fields: Iterable<string>, test: ((field: string) => boolean) | undefined, writing: boolean, context: string): void {
  // The parent's owner and shares are bookkeeping: filtering on them would tell a hidden deal's owner.
  const refused = [...new Set([...fields].map(topField))].filter((f) => isParentAccessField(f) || (test !== undefined && !test(f))).sort();
  if (refused.length) {
    const action = writing ? 'write' : 'read';
    throw new CrmError('FORBIDDEN', `${context}: ${userId} may not ${action} ${refused.join(', ')} of ${entity}`, {
      action: `${entity}.${writing ? 'update' : 'read'}`,
      reason: `fields you may not ${action}`,
      entity,
      fields: refused,
    });
  }
}

/** The rows one action reaches: every row, or those of these owners (and, for shared entities, shared ones). */
export interface EntityScope {
  readonly all: boolean;
  readonly owners: ReadonlySet<string>;
  /** The scope each of the principal's roles grants (for `FORBIDDEN` details). */
  readonly byRole: Readonly<Record<string, Scope>>;
}

/** Entity types an event can be about, as stored in `subjectType`. */
const SUBJECT_TYPES = ['lead', 'contact', 'company', 'deal', 'task', 'activity', 'pipeline', 'customField', 'assignmentStrategy', 'setting'];
const NOTHING: Filter = { op: 'or', filters: [] };
const WRITE_ACTIONS = new Set<string>(['create', 'update', 'delete', 'advance', 'postpone', 'win', 'lose', 'reopen', 'convert', 'assign', 'share']);

/** A field predicate of one role: `undefined` when the role says nothing (every field). */
type FieldTest = ((field: string) => boolean) | undefined;

function ruleTest(rule: FieldRule | undefined): FieldTest {
  if (!rule) return undefined;
  if ('allow' in rule) {
    const allowed = new Set(rule.allow);
    return (field) => BASE_FIELDS.has(field) || allowed.has(field) || (field.startsWith('custom.') && allowed.has('custom'));
  }
  const denied = new Set(rule.deny);
  return (field) => !denied.has(field) && !(field.startsWith('custom.') && denied.has('custom'));
}

/**
 * The access rules of one principal under one policy and directory, compiled once and cached (per
 * policy revision and principal): row scopes as filters of the query language, field rules as
 * predicates. Immutable, so every operation of every view of that principal shares it.
 */
export class CompiledAccess implements AccessGuard {
  readonly roles: readonly string[];
  readonly teamIds: readonly string[];
  /** `u:<userId>` and `t:<teamId>` of every team: the keys shares are made to. */
  readonly shareKeys: readonly string[];
  readonly departed: boolean;
  /** The principal's roles with their definitions (a sync device's guard is rebuilt from them, design sync.md §24). */
  readonly roleDefs: readonly (readonly [string, AccessRole])[];
  private readonly scopes = new Map<string, EntityScope>();
  private readonly filters = new Map<string, Filter | undefined>();
  private readonly readTests = new Map<string, ((field: string) => boolean) | undefined>();
  private readonly writeTests = new Map<string, ((field: string) => boolean) | undefined>();
  private dealMatch: [Filter | undefined] | undefined;
  private dealPage: [Filter | undefined] | undefined;
  private ownerSets: { own?: ReadonlySet<string>; team?: ReadonlySet<string>; subtree?: ReadonlySet<string> } = {};

  constructor(
    policy: AccessPolicy,
    private readonly directory: DirectoryIndex,
    readonly principal: Principal,
    /** Share marks (`SHARED_KEY`: `<entity> <key>`, or a bare entity for every key): filters skip the "shared with me" branch of entities none of the principal's keys was shared with (a simpler plan). */
    private readonly shared: ReadonlySet<string> = new Set(SHARED_ENTITIES),
    /** Whether every deal carries its owner's team key (`ownerKey`, see `owner-keys.ts`). */
    private readonly ownerKeys = false,
  ) {
    const user = directory.users.get(principal.userId);
    this.departed = user?.departed === true;
    // A directory user listed without roles gets the defaults, as one missing from the directory does.
    this.roles = [...(principal.roles ?? (user?.roles?.length ? user.roles : undefined) ?? policy.defaultRoles ?? [])];
    const unknown = this.roles.map((role, i) => [role, i] as const).filter(([role]) => !Object.prototype.hasOwnProperty.call(policy.roles, role));
    if (unknown.length) {
      throw validationError('crm.as', unknown.map(([role, i]) => ({ path: ['principal', 'roles', i], code: 'unknown_role', message: `the access policy has no role "${role}"` })));
    }
    this.roleDefs = this.roles.map((role) => [role, policy.roles[role]!] as const);
    this.teamIds = [...(principal.teamIds ?? user?.teamIds ?? [])];
    this.shareKeys = [`u:${principal.userId}`, ...this.teamIds.map((t) => `t:${t}`)];
  }

  // ---- row scopes ----

  /** The owners a scope reaches for this principal (itself, its teams' members, its reports). */
  owners(scope: 'own' | 'team' | 'subtree'): ReadonlySet<string> {
    const cached = this.ownerSets[scope];
    if (cached) return cached;
    const me = this.principal.userId;
    let set: Set<string>;
    if (scope === 'own') set = new Set([me]);
    else if (scope === 'team') set = new Set([me, ...this.teamIds.flatMap((t) => this.directory.membersOf(t))]);
    else set = new Set([me, ...this.directory.reportsOf(me)]);
    this.ownerSets[scope] = set;
    return set;
  }

  /** The rows an action on an entity reaches: the union of what the principal's roles grant. */
  scope(entity: string, action: string): EntityScope {
    const key = `${entity}.${action}`;
    const cached = this.scopes.get(key);
    if (cached) return cached;
    const byRole: Record<string, Scope> = {};
    let all = false;
    const owners = new Set<string>();
    for (const [name, role] of this.roleDefs) {
      const grants = role.grants[entity as PolicyEntity] as Record<string, Scope> | undefined;
      const scope: Scope = this.departed ? 'none' : (grants?.[action] ?? grants?.['*'] ?? 'none');
      byRole[name] = scope;
      if (scope === 'all') all = true;
      else if (scope !== 'none' && OWNED_ENTITIES.has(entity)) for (const id of this.owners(scope)) owners.add(id);
    }
    const result: EntityScope = { all, owners, byRole };
    this.scopes.set(key, result);
    return result;
  }

  /** Whether some role grants the action at all (any scope but `none`). */
  granted(entity: string, action: AccessAction): boolean {
    const s = this.scope(entity, action);
    return s.all || s.owners.size > 0;
  }

  reachesAll(entity: string, action: AccessAction): boolean {
    return this.scope(entity, action).all;
  }

  ownersFor(entity: string, action: AccessAction): readonly string[] | undefined {
    const s = this.scope(entity, action);
    return s.all ? undefined : [...s.owners].sort();
  }

  readFilter(entity: string): Filter | undefined {
    if (this.filters.has(entity)) return this.filters.get(entity);
    const filter = this.compileRead(entity, this.ownerKeys);
    this.filters.set(entity, filter);
    return filter;
  }

  /**
   * @param keyed Whether deals' owner filter may add `ownerKey = <key>` (their owners' shared team
   *   key), which only storage evaluates: rows handed out never carry it. The owner test stays, so a
   *   key out of date could only hide a deal, never show one. `'alone'`: the key without the owner
   *   test where the owners are exactly the users with that key (`readPage` checks the rows).
   */
  private compileRead(entity: string, keyed: boolean | 'alone' = false): Filter | undefined {
    // Stage visits are the history of their deal: readable with the deal (every visit has one).
    if (entity === 'stageVisit') return this.scope('deal', 'read').all ? undefined : this.followFilter(['deal'], []);
    if (WHOLE_ENTITIES.has(entity)) return this.granted(entity, 'read') ? undefined : NOTHING;
    if (!OWNED_ENTITIES.has(entity)) return undefined;
    const s = this.scope(entity, 'read');
    if (s.all) return undefined;
    const parts: Filter[] = [];
    if (s.owners.size) {
      const owners: Filter = { op: 'in', field: 'ownerId', values: [...s.owners].sort() };
      const key = keyed && entity === 'deal' ? sharedTeamKey(this.directory, s.owners, keyed === 'alone') : undefined;
      if (keyed === 'alone' && key === undefined) return undefined;
      const byKey: Filter = { op: 'eq', field: 'ownerKey', value: key! };
      parts.push(key === undefined ? owners : keyed === 'alone' ? byKey : { op: 'and', filters: [byKey, owners] });
    } else if (keyed === 'alone') return undefined;
    if (SHARED_ENTITIES.has(entity)) {
      // A departed user keeps nothing, shares included.
      if (this.sharedWithMe(entity)) parts.push({ op: 'containsAny', field: 'shareKeys', values: this.shareKeys });
    }
    // Tasks and activities also follow the record they belong to (a visible deal's tasks).
    else if (s.owners.size) return this.followFilter(PARENT_TYPES, parts);
    return parts.length === 1 ? parts[0] : { op: 'or', filters: parts };
  }

  /** Whether some record of `entity` was shared with the principal or its teams (a departed user keeps none). */
  private sharedWithMe(entity: string): boolean {
    return !this.departed && (this.shared.has(entity) || this.shareKeys.some((k) => this.shared.has(`${entity} ${k}`)));
  }

  /** Rows whose parent (of these types) the principal may read, or-ed with `own`. */
  private followFilter(types: readonly ParentType[], own: Filter[]): Filter {
    const parts = [...own];
    const owners: string[] = [];
    for (const type of types) {
      const s = this.scope(type, 'read');
      if (s.all) parts.push({ op: 'prefix', field: 'parentOwner', value: `${type}:` });
      else for (const id of s.owners) owners.push(`${type}:${id}`);
    }
    if (owners.length) parts.push({ op: 'in', field: 'parentOwner', values: owners.sort() });
    if (types.some((t) => this.sharedWithMe(t))) parts.push({ op: 'containsAny', field: 'parentShareKeys', values: this.shareKeys });
    return parts.length === 1 ? parts[0]! : { op: 'or', filters: parts };
  }

  canRead(entity: string, row: RecordBase): boolean {
    // Rows carry no `ownerKey`: they are matched against the filter without it.
    const filter = this.ownerKeys && entity === 'deal' ? (this.dealMatch ??= [this.compileRead(entity)])[0] : this.readFilter(entity);
    return filter === undefined || matchFilter(row, filter);
  }

  /**
   * A page of deals for a team lead, where every deal keyed with the team's key is the team's: the
   * page seeks that key alone (no per-row owner test in SQL) and its rows are checked here. One row
   * that fails (a key edited by hand, or stale) and the page is read again with the full filter, so
   * a wrong key can only hide a deal, and rows, order and cursor are always those of the full filter:
   * it reads one row more than asked, so `nextCursor` is given only when a readable row follows.
   */
  readPage<T extends RecordBase>(entity: string, spec: QuerySpec, query: (spec: QuerySpec) => Promise<{ rows: T[]; nextCursor?: string }>): Promise<{ rows: T[]; nextCursor?: string }> | undefined {
    const alone = entity === 'deal' && this.ownerKeys && (this.dealPage ??= [this.compileRead(entity, 'alone')])[0];
    if (!alone) return;
    const limit = spec.limit!;
    const owners = this.scope(entity, 'read').owners;
    const scoped = (scope: Filter) => ({ ...spec, filter: spec.filter ? { op: 'and' as const, filters: [scope, spec.filter] } : scope });
    return query({ ...scoped(alone), limit: limit + 1 }).then(({ rows }) =>
      // The owner lookup decides most rows; the matcher the rest (shares).
      !rows.every((row) => owners.has((row as { ownerId?: string }).ownerId!) || this.canRead(entity, row))
        ? query(scoped(this.readFilter(entity)!))
        : rows.length > limit
          ? { rows: rows.slice(0, limit), nextCursor: encodeCursor(rows[limit - 1] as unknown as Row, spec.sort ?? []) }
          : { rows },
    );
  }

  /** Whether an action on a stored (or about to be stored) row is within the principal's scope. */
  reaches(entity: string, action: string, row: RecordBase): boolean {
    if (action === 'read') return this.canRead(entity, row);
    const s = this.scope(entity, action);
    if (s.all) return true;
    const r = row as RecordBase & { ownerId?: string; shares?: readonly { to: string; access: string }[]; parentOwner?: string };
    if (r.ownerId !== undefined && s.owners.has(r.ownerId)) return true;
    if (this.departed) return false; // shares too: nothing is reachable after departure
    if (SHARED_ENTITIES.has(entity) && WRITE_SHARE_ACTIONS.has(action as AccessAction) && r.shares?.some((x) => x.access === 'write' && this.shareKeys.includes(x.to))) return true;
    if ((entity === 'task' || entity === 'activity') && action === 'update' && r.parentOwner) {
      // Whoever may change a deal (contact, …) may change its tasks.
      const colon = r.parentOwner.indexOf(':');
      const parent = this.scope(r.parentOwner.slice(0, colon), 'update');
      if (parent.all || parent.owners.has(r.parentOwner.slice(colon + 1))) return true;
    }
    return false;
  }

  private forbidden(entity: string, action: string, reason: string, row?: RecordBase, fields?: readonly string[]): CrmError<'FORBIDDEN'> {
    const target = row ? `${entity} ${row.id}` : entity;
    return new CrmError('FORBIDDEN', `${this.principal.userId} may not ${action} ${target}: ${reason}`, {
      action: `${entity}.${action}`,
      reason,
      entity,
      ...(row ? { id: row.id } : {}),
      ...(fields ? { fields } : {}),
      rule: { entity, action, roles: this.scope(entity, action).byRole },
    });
  }

  /** Why an action no role grants is refused. */
  private ungranted(): string {
    return this.departed ? 'the user has departed' : 'no role grants it';
  }

  require(entity: string, action: AccessAction): void {
    if (!this.granted(entity, action)) throw this.forbidden(entity, action, this.ungranted());
  }

  authorize(entity: string, action: AccessAction, row: RecordBase): void {
    if (WHOLE_ENTITIES.has(entity)) return this.require(entity, action);
    if (!this.reaches(entity, action, row)) throw this.forbidden(entity, action, this.granted(entity, action) ? 'the record is outside the scope your roles grant' : this.ungranted(), row);
  }

  checkWritten(entity: string, action: AccessAction, before: RecordBase | undefined, after: RecordBase): void {
    if (WHOLE_ENTITIES.has(entity)) return this.require(entity, action);
    const ownerBefore = (before as { ownerId?: string } | undefined)?.ownerId;
    const ownerAfter = (after as { ownerId?: string }).ownerId;
    if (before && ownerBefore !== ownerAfter && (ENTITY_ACTIONS[entity as PolicyEntity] as readonly string[]).includes('assign')) {
      // Handing a record to someone else is assignment: its scope decides, on the record as it was.
      if (!this.reaches(entity, 'assign', before)) throw this.forbidden(entity, 'assign', 'you may not reassign this record', before);
      return;
    }
    if (before && entity === 'task' && ownerBefore !== ownerAfter && !this.reaches('task', 'create', after)) {
      // Handing a task over is judged as creating it for its new owner would be (same verdict both ways).
      throw this.forbidden('task', 'create', 'you may not give a task to this owner', after);
    }
    if (!this.reaches(entity, action, after)) {
      throw this.forbidden(entity, action, before ? 'the change would move the record out of your scope' : 'you may not create a record with this owner', after);
    }
  }

  // ---- field rules ----

  /** The roles whose field rules count for an entity: those granting something on it (else all). */
  private fieldRoles(entity: string, writing: boolean): readonly (readonly [string, AccessRole])[] {
    const actions = (ENTITY_ACTIONS[entity as PolicyEntity] ?? []) as readonly string[];
    const granting = this.roleDefs.filter(([, role]) => {
      const grants = role.grants[entity as PolicyEntity] as Record<string, Scope> | undefined;
      if (!grants) return false;
      return actions.some((a) => (!writing || WRITE_ACTIONS.has(a)) && (grants[a] ?? grants['*'] ?? 'none') !== 'none');
    });
    return granting.length ? granting : this.roleDefs;
  }

  private fieldTest(entity: string, writing: boolean): ((field: string) => boolean) | undefined {
    const cache = writing ? this.writeTests : this.readTests;
    if (cache.has(entity)) return cache.get(entity);
    if (entity === 'stageVisit') {
      // A deal's history: each visit field readable where the deal fields it copies are.
      const deal = this.fieldTest('deal', false);
      const test = deal && ((field: string) => (VISIT_FIELDS[field] ?? []).every(deal));
      cache.set(entity, test);
      return test;
    }
    const tests: FieldTest[] = this.fieldRoles(entity, writing).map(([, role]) => ruleTest(role.fields?.[entity]?.[writing ? 'write' : 'read']));
    let test: ((field: string) => boolean) | undefined;
    if (tests.length && !tests.some((t) => t === undefined)) {
      const base = (field: string) => tests.some((t) => t!(field));
      const sources = revealSources(entity);
      test = (field) => base(field) && (sources.get(field) ?? []).every(base);
    }
    if (writing) {
      const read = this.fieldTest(entity, false);
      if (read && test) {
        const write = test;
        test = (field) => read(field) && write(field);
      } else test ??= read;
    }
    cache.set(entity, test);
    return test;
  }

  hasFieldRules(entity: string): boolean {
    return this.fieldTest(entity, false) !== undefined;
  }

  readable(entity: string, field: string): boolean {
    const top = topField(field);
    if (isParentAccessField(top)) return false;
    const test = this.fieldTest(entity, false);
    return !test || test(top);
  }

  checkReadFields(entity: string, fields: Iterable<string>, context: string): void {
    refuseFields(this.principal.userId, entity, fields, this.fieldTest(entity, false), false, context);
  }

  checkWriteFields(entity: string, fields: Iterable<string>, context: string): void {
    refuseFields(this.principal.userId, entity, fields, this.fieldTest(entity, true), true, context);
  }

  project<T extends object>(entity: string, record: T): T {
    if (!record) return record;
    let out: Record<string, unknown> | undefined;
    // The parent's owner and shares, copied onto children for access checks: never shown to a view (they may name a hidden deal's owner).
    for (const key of PARENT_ACCESS_FIELDS) {
      if (Object.prototype.hasOwnProperty.call(record, key)) delete (out ??= { ...(record as Record<string, unknown>) })[key];
    }
    const test = this.fieldTest(entity, false);
    if (!test) return (out ?? record) as T;
    for (const key of Object.keys(out ?? record)) {
      if (key === 'custom') {
        const custom = (record as Record<string, unknown>).custom as Record<string, unknown> | undefined;
        if (!custom) continue;
        const hidden = Object.keys(custom).filter((k) => !test(`custom.${k}`));
        if (hidden.length) {
          const kept = { ...custom };
          for (const k of hidden) delete kept[k];
          (out ??= { ...(record as Record<string, unknown>) }).custom = kept;
        }
      } else if (!test(key)) {
        out ??= { ...(record as Record<string, unknown>) };
        delete out[key];
      }
    }
    return (out ?? record) as T;
  }

  // ---- events ----

  /** A pushed-down prefilter of event reads: only subject types the principal may read something of. */
  eventFilter(): Filter | undefined {
    const types = SUBJECT_TYPES.filter((type) => {
      const entity = subjectEntity(type);
      return this.granted(entity, 'read') || SHARED_ENTITIES.has(entity);
    });
    return types.length === SUBJECT_TYPES.length ? undefined : { op: 'in', field: 'subjectType', values: types };
  }

  /**
   * Whether an event is visible: its subject is readable now (`subject` is its current row; `null`
   * or `undefined` when it is gone — then only a principal who reads every row of the entity sees it).
   */
  canSeeEvent(event: CrmEvent, subject: RecordBase | null | undefined): boolean {
    const entity = subjectEntity(event.subjectType);
    if (WHOLE_ENTITIES.has(entity)) return this.granted(entity, 'read');
    if (!OWNED_ENTITIES.has(entity)) return false;
    // An event whose type tells a hidden field (a won deal's status) is hidden with it.
    if (!(EVENT_TYPE_FIELDS[event.type] ?? []).every((field) => this.readable(entity, field))) return false;
    return subject ? this.canRead(entity, subject) : this.scope(entity, 'read').all;
  }

  /** An event with its payload projected and its `refs` cut to records the principal may read, through links it may read. */
  projectEvent(event: CrmEvent, refVisible: (key: string) => boolean): CrmEvent {
    const entity = subjectEntity(event.subjectType);
    const projected = projectEventData(event, entity, this, refVisible);
    const refs = event.refs.filter((key) => refVisible(key) && linkShown(entity, key, this));
    return refs.length === event.refs.length ? projected : ({ ...projected, refs } as CrmEvent);
  }

  /** The principal's effective rights, for UIs that hide what cannot be done. */
  summary(): AccessSummary {
    const entities: Record<string, Record<string, Scope | 'mixed'>> = {};
    for (const [entity, actions] of Object.entries(ENTITY_ACTIONS)) {
      const out: Record<string, Scope | 'mixed'> = {};
      for (const action of actions) {
        const s = this.scope(entity, action);
        const scopes = [...new Set(Object.values(s.byRole))].filter((x) => x !== 'none');
        out[action] = s.all ? 'all' : scopes.length === 0 ? 'none' : scopes.length === 1 ? scopes[0]! : 'mixed';
      }
      entities[entity] = out;
    }
    const fieldRules = ['lead', 'contact', 'company', 'deal', 'task', 'activity'].filter((entity) => this.hasFieldRules(entity));
    return { userId: this.principal.userId, roles: this.roles, teamIds: this.teamIds, departed: this.departed, entities, fieldRules };
  }
}

/** What `crm.as(p).access.rights()` reports. */
export interface AccessSummary {
  readonly userId: string;
  readonly roles: readonly string[];
  readonly teamIds: readonly string[];
  readonly departed: boolean;
  /** Per entity and action: the scope granted (`mixed` when roles grant different partial scopes). */
  readonly entities: Readonly<Record<string, Readonly<Record<string, Scope | 'mixed'>>>>;
  /** Entities whose fields are restricted: test one with `readable(entity, field)`. */
  readonly fieldRules: readonly string[];
}

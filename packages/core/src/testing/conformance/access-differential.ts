import * as fc from 'fast-check';
import { expect } from 'vitest';
import type { AccessPolicy } from '../../access/access-policy.js';
import type { Directory } from '../../access/access-directory.js';
import { createCrm } from '../../crm/create-crm.js';
import type { CrmWith } from '../../crm/feature.js';
import { silentLogger } from '../../crm/logger.js';
import { isCrmError } from '../../errors/crm-error.js';
import { PARENT_LINKS, PARENT_TYPES } from '../../domain/parent-access.js';
import { compareRows } from '../../query/compare.js';
import type { SortSpec } from '../../query/query-spec.js';
import { allFeatures, type AllFeatures } from '../create-test-crm.js';
import { createMemoryStorage } from '../../storage/memory-storage.js';
import type { Row, StorageAdapter } from '../../storage/storage-adapter.js';
import { createFakeClock, type FakeClock } from '../fake-clock.js';

const TENANT = 'access';
const NOW = '2026-02-01T09:00:00.000Z';
const SCOPES = ['none', 'own', 'team', 'subtree', 'all'] as const;
type Scope = (typeof SCOPES)[number];
const ENTITIES = ['lead', 'contact', 'company', 'deal', 'task', 'activity', 'stageVisit', 'event'] as const;

/** A small seeded generator: datasets are built from one fast-check seed. */
function prng(seed: number): { int(n: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0 || 1;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n) => Math.floor(next() * n), pick: (items) => items[Math.floor(next() * items.length)]!, chance: (p) => next() < p };
}

/**
 * The reference meaning of the access rules, written from the guide and independent of the compiled
 * filters: which rows a principal may read, judged on the live rows (a task by its parent's current
 * owner and shares, not by the copies crmkit maintains).
 */
class Oracle {
  private readonly users = new Map<string, Directory['users'][number]>();
  readonly roles: string[];
  readonly teams: string[];
  readonly keys: string[];
  readonly departed: boolean;

  constructor(
    private readonly policy: AccessPolicy,
    directory: Directory,
    private readonly principal: { userId: string; roles?: string[]; teamIds?: string[] },
    private readonly rows: Readonly<Record<string, Map<string, Row>>>,
  ) {
    for (const u of directory.users) this.users.set(u.id, u);
    const user = this.users.get(principal.userId);
    this.departed = user?.departed === true;
    // A directory user listed with no roles gets the defaults, as one missing from the directory does.
    this.roles = principal.roles ?? (user?.roles?.length ? user.roles : undefined) ?? policy.defaultRoles ?? [];
    this.teams = principal.teamIds ?? user?.teamIds ?? [];
    this.keys = [`u:${principal.userId}`, ...this.teams.map((t) => `t:${t}`)];
  }

  private ownersOf(scope: Scope): Set<string> | 'all' {
    const me = this.principal.userId;
    if (scope === 'all') return 'all';
    if (scope === 'none') return new Set();
    const out = new Set([me]);
    if (scope === 'team') for (const u of this.users.values()) if ((u.teamIds ?? []).some((t) => this.teams.includes(t))) out.add(u.id);
    if (scope === 'subtree') {
      let grew = true;
      while (grew) {
        grew = false;
        for (const u of this.users.values()) {
          if (u.managerId && out.has(u.managerId) && !out.has(u.id)) {
            out.add(u.id);
            grew = true;
          }
        }
      }
    }
    return out;
  }

  /** The union of what the principal's roles grant for reading an entity. */
  readScope(entity: string): Set<string> | 'all' {
    const out = new Set<string>();
    if (this.departed) return out;
    for (const role of this.roles) {
      const grants = (this.policy.roles[role]?.grants as Record<string, Record<string, Scope>> | undefined)?.[entity];
      const scope = grants?.read ?? grants?.['*'] ?? 'none';
      const owners = this.ownersOf(scope);
      if (owners === 'all') return 'all';
      for (const id of owners) out.add(id);
    }
    return out;
  }

  private shared(row: Row): boolean {
    return ((row.shares as { to: string }[] | undefined) ?? []).some((s) => this.keys.includes(s.to));
  }

  canRead(entity: string, row: Row): boolean {
    // A departed user reads nothing, shared records included.
    if (this.departed) return false;
    if (entity === 'stageVisit') {
      const deal = this.rows.deal!.get(row.dealId as string);
      return deal !== undefined && this.canRead('deal', deal);
    }
    const scope = this.readScope(entity);
    if (scope === 'all') return true;
    if (row.ownerId !== undefined && scope.has(row.ownerId as string)) return true;
    if (entity === 'lead' || entity === 'contact' || entity === 'company' || entity === 'deal') return this.shared(row);
    if (scope.size === 0) return false;
    // Tasks and activities follow their most specific parent.
    for (const type of PARENT_TYPES) {
      const id = row[PARENT_LINKS[type]] as string | undefined;
      if (!id) continue;
      const parent = this.rows[type]!.get(id);
      return parent !== undefined && this.canRead(type, parent);
    }
    return false;
  }

  /** Postponements counted by a view: those of deals it may read now (of removed deals: when it reads every deal). */
  countsPostponement(event: Row): boolean {
    if (this.readScope('deal') === 'all') return true;
    const deal = this.rows.deal!.get(event.subjectId as string);
    return deal !== undefined && this.canRead('deal', deal);
  }
}

async function allRows(storage: StorageAdapter, tenantId: string, entity: string): Promise<Row[]> {
  return storage.transaction('r', async (tx) => (await tx.query(entity, tenantId, { sort: [{ field: 'id' }] })).rows);
}

const strip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * One run of the differential test: builds a random directory, policy, principal and history through
 * the public API, then checks that every list, count, board and report of the principal's view equals
 * what the trusted crm computes over a copy holding only the rows the oracle says the principal may read.
 */
export async function accessDifferentialRun(storage: StorageAdapter, seed: number, tenantId = TENANT): Promise<void> {
  const clock = createFakeClock(NOW);
  // The storage may hold other runs' tenants (see `accessDifferentialProperty`): the crm leaves it open.
  const root = await createCrm({ storage, tenantId, clock, logger: silentLogger, random: { seed }, features: allFeatures(), closeStorage: false });
  try {
    await differentialChecks(root, storage, seed, tenantId, clock);
  } finally {
    await root.close();
  }
}

async function differentialChecks(root: CrmWith<AllFeatures>, storage: StorageAdapter, seed: number, tenantId: string, clock: FakeClock): Promise<void> {
  const r = prng(seed);
  const userIds = Array.from({ length: 3 + r.int(5) }, (_, i) => `u${i}`);
  const teams = ['t0', 't1', 't2'];
  const roleNames = ['a', 'b', 'c'].slice(0, 1 + r.int(3));
  const directory: Directory = {
    teams: teams.map((id) => ({ id })),
    users: userIds.map((id, i) => ({
      id,
      ...(i > 0 && r.chance(0.7) ? { managerId: userIds[r.int(i)]! } : {}),
      teamIds: teams.filter(() => r.chance(0.4)),
      ...(r.chance(0.5) ? { roles: roleNames.filter(() => r.chance(0.5)) } : {}),
      ...(i > 0 && r.chance(0.1) ? { departed: true } : {}),
    })),
  };
  const grant = (): Scope => r.pick(SCOPES);
  // Field rules: each role may deny some deal and task fields that reads group, sort or filter by.
  const denied = roleNames.map(() => ({ deal: DEAL_RULED.filter(() => r.chance(0.2)), task: TASK_RULED.filter(() => r.chance(0.2)) }));
  const fieldsOf = (i: number) => {
    const { deal, task } = denied[i]!;
    const fields = { ...(deal.length ? { deal: { read: { deny: deal } } } : {}), ...(task.length ? { task: { read: { deny: task } } } : {}) };
    return Object.keys(fields).length ? { fields } : {};
  };
  const policy: AccessPolicy = {
    roles: Object.fromEntries(
      roleNames.map((name, i) => [
        name,
        {
          grants: {
            deal: r.chance(0.3) ? { '*': grant() } : { read: grant() },
            task: { read: grant() },
            activity: { read: grant() },
            lead: { read: grant() },
            contact: { read: grant() },
            company: { read: grant() },
            pipeline: { read: 'all' as const },
            report: { read: 'all' as const },
          },
          ...fieldsOf(i),
        },
      ]),
    ),
    defaultRoles: [roleNames[0]!],
  };
  const owner = () => (r.chance(0.15) ? {} : { ownerId: r.pick(userIds) });

  const pipeline = await root.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer', probability: 50 }, { key: 'close', name: 'Close', probability: 80 }] });
  const contacts = [];
  for (let i = 0; i < 1 + r.int(4); i++) contacts.push(await root.contacts.create({ name: `Contact ${i}`, ...owner() }));
  for (let i = 0; i < r.int(3); i++) await root.companies.create({ name: `Company ${i}`, ...owner() });
  const leads = [];
  for (let i = 0; i < r.int(4); i++) leads.push(await root.leads.create({ name: `Lead ${i}`, ...owner() }));
  const deals = [];
  for (let i = 0; i < 2 + r.int(8); i++) {
    clock.advance(60_000);
    const contact = r.chance(0.5) ? { contactId: r.pick(contacts).id } : {};
    deals.push(await root.deals.create({ title: `Deal ${i}`, pipelineId: pipeline.id, value: { amount: 100 * (1 + r.int(50)), currency: r.pick(['EUR', 'USD']) }, ...(r.chance(0.5) ? { expectedCloseDate: r.pick(['2026-02-10', '2026-03-15']) } : {}), ...owner(), ...contact }));
  }
  for (let i = 0; i < r.int(6); i++) {
    const parent = r.int(4);
    const link = parent === 0 && deals.length ? { dealId: r.pick(deals).id } : parent === 1 && contacts.length ? { contactId: r.pick(contacts).id } : parent === 2 && leads.length ? { leadId: r.pick(leads).id } : {};
    await root.tasks.create({ subject: `Task ${i}`, dueAt: r.pick(['2026-01-20T10:00:00Z', '2026-02-01T12:00:00Z', '2026-02-03T10:00:00Z']), ...owner(), ...link });
  }
  for (let i = 0; i < r.int(4); i++) await root.activities.log({ kind: 'note', ...owner(), ...(deals.length && r.chance(0.6) ? { dealId: r.pick(deals).id } : {}) });
  for (const deal of deals) {
    clock.advance(60_000);
    const move = r.int(6);
    const as = root.as({ userId: r.pick(userIds) });
    if (move === 0) await root.deals.advance(deal.id);
    else if (move === 1) await root.deals.win(deal.id);
    else if (move === 2) await root.deals.lose(deal.id, { reason: 'price' });
    else if (move === 3) await root.deals.postpone(deal.id, { until: '2026-02-20T10:00:00Z' });
    // The acting user of the view is credited (postponements per actor).
    if (r.chance(0.3)) await as.deals.postpone(deal.id, { until: '2026-02-25T10:00:00Z' }).catch(() => undefined);
  }
  // Policy and directory go in last so the views above acted as trusted users.
  await root.access.setDirectory(directory);
  await root.access.setPolicy(policy);
  // Reassignments and shares after the fact: the copies children keep must follow.
  for (const deal of deals) {
    if (r.chance(0.3)) await root.deals.update(deal.id, { ownerId: r.pick(userIds) });
    if (r.chance(0.3)) await root.access.share({ type: 'deal', id: deal.id }, r.chance(0.5) ? { userId: r.pick(userIds), access: 'read' } : { teamId: r.pick(teams), access: 'write' });
  }
  for (const contact of contacts) {
    if (r.chance(0.3)) await root.contacts.update(contact.id, { ownerId: r.pick(userIds) });
    if (r.chance(0.2)) await root.access.share({ type: 'contact', id: contact.id }, { userId: r.pick(userIds), access: 'read' });
  }
  if (deals.length && r.chance(0.3)) {
    const deal = r.pick(deals);
    await root.access.share({ type: 'deal', id: deal.id }, { userId: userIds[0]!, access: 'read' });
    await root.access.unshare({ type: 'deal', id: deal.id }, { userId: userIds[0]! });
  }

  const principal = { userId: r.pick(userIds), ...(r.chance(0.4) ? { roles: roleNames.filter(() => r.chance(0.6)) } : {}), ...(r.chance(0.2) ? { teamIds: [r.pick(teams)] } : {}) };
  const live: Record<string, Map<string, Row>> = {};
  for (const entity of ENTITIES) live[entity] = new Map((await allRows(storage, tenantId, entity)).map((row) => [row.id, row]));
  const oracle = new Oracle(policy, directory, principal, live);
  const view = root.as(principal);

  // The oracle's world: a trusted crm over a copy of the readable rows only.
  const copy = createMemoryStorage();
  const twin = await createCrm({ storage: copy, tenantId, clock, logger: silentLogger, features: allFeatures() });
  await copy.transaction('rw', async (tx) => {
    for (const entity of ENTITIES) {
      const keep = [...live[entity]!.values()].filter((row) => (entity === 'event' ? row.type === 'deal.postponed' && oracle.countsPostponement(row) : oracle.canRead(entity, row)));
      if (keep.length) await tx.write(entity, tenantId, keep.map((row) => ({ type: 'insert' as const, row })));
    }
    for (const entity of ['pipeline', 'customField']) {
      const rows = await allRows(storage, tenantId, entity);
      if (rows.length) await tx.write(entity, tenantId, rows.map((row) => ({ type: 'insert' as const, row })));
    }
  });
  const hidden = { deal: hiddenFields(policy, oracle.roles, roleNames, denied, 'deal'), task: hiddenFields(policy, oracle.roles, roleNames, denied, 'task') };
  const dealHidden = (...fields: string[]) => fields.some((f) => hidden.deal.has(f));
  const taskHidden = (...fields: string[]) => fields.some((f) => hidden.task.has(f));
  const valueHidden = dealHidden('value');
  const drop = (row: Row, fields: ReadonlySet<string>): Row => Object.fromEntries(Object.entries(row).filter(([k]) => !fields.has(k) && k !== 'parentOwner' && k !== 'parentShareKeys')) as Row;
  const project = (deal: Row) => drop(deal, hidden.deal);
  /** `allowed` or the error code of a read. */
  const verdictOf = (promise: Promise<unknown>) => promise.then(() => 'allowed', (e: unknown) => (isCrmError(e) ? e.code : String(e)));
  const context = `seed ${seed}, principal ${JSON.stringify(principal)}`;

  // Lists, page by page, in several orders: the caller's, and the service's default (newest first when it names a hidden field).
  const lists: [string, string, (o: object) => Promise<{ items: Row[]; nextCursor?: string }>, SortSpec[]][] = [
    ['deal', 'deals', (o) => view.deals.list(o) as never, []],
    ['lead', 'leads', (o) => view.leads.list(o) as never, []],
    ['contact', 'contacts', (o) => view.contacts.list(o) as never, []],
    ['company', 'companies', (o) => view.companies.list(o) as never, []],
    ['task', 'tasks', (o) => view.tasks.list(o) as never, taskHidden('dueAt') ? [] : [{ field: 'dueAt' }]],
    ['activity', 'activities', (o) => view.activities.list(o) as never, [{ field: 'occurredAt', direction: 'desc' }]],
  ];
  for (const [entity, name, list, defaultOrder] of lists) {
    const explicit = r.chance(0.6);
    const sort: SortSpec[] = explicit ? [{ field: 'createdAt', direction: r.chance(0.5) ? 'asc' : 'desc' }] : defaultOrder.length ? defaultOrder : [{ field: 'createdAt', direction: 'desc' }];
    const got: Row[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ ...(explicit ? { orderBy: sort } : {}), limit: 1 + r.int(3), ...(cursor ? { cursor } : {}) });
      got.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const expected = [...live[entity]!.values()].filter((row) => oracle.canRead(entity, row)).sort(compareRows(sort)).map((row) => row.id);
    expect(got.map((row) => row.id), `${name}.list ${JSON.stringify(sort)}, ${context}`).toEqual(expected);
    const fields = entity === 'deal' ? hidden.deal : entity === 'task' ? hidden.task : new Set<string>();
    expect(got.flatMap((row) => Object.keys(row).filter((k) => fields.has(k))), `${name}.list shows no hidden field, ${context}`).toEqual([]);
  }
  // Counts per stage: grouped by the stage, summing the amount.
  const aggregate = { groupBy: ['stageKey' as const], metrics: { n: { fn: 'count' as const }, total: { fn: 'sum' as const, field: 'value.amount' as const } } };
  if (dealHidden('value', 'stageKey')) expect(await verdictOf(view.deals.aggregate(aggregate)), `deals.aggregate refused, ${context}`).toBe('FORBIDDEN');
  else expect(await view.deals.aggregate(aggregate), `deals.aggregate, ${context}`).toEqual(await twin.deals.aggregate(aggregate));
  // Every role grants pipelines and reports; a principal without roles (or departed) gets neither.
  if (oracle.departed || oracle.roles.length === 0) {
    for (const call of [() => view.deals.board(pipeline.id), () => view.reports.funnel({ pipelineId: pipeline.id, from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' })]) {
      const refused = await call().catch((e: unknown) => e);
      expect(isCrmError(refused, 'FORBIDDEN'), `board/report refused without roles, ${context}`).toBe(true);
    }
    await twin.close();
    return;
  }
  // The board is deals by stage; the funnel counts stage visits by stage, exit and outcome.
  if (dealHidden('stageKey')) expect(await verdictOf(view.deals.board(pipeline.id, { includeClosed: true })), `deals.board refused, ${context}`).toBe('FORBIDDEN');
  else {
    const board = await view.deals.board(pipeline.id, { includeClosed: true });
    const twinBoard = await twin.deals.board(pipeline.id, { includeClosed: true });
    expect(strip(board.columns.map((c) => ({ count: c.count, totals: c.totals, deals: c.deals }))), `deals.board, ${context}`).toEqual(
      strip(twinBoard.columns.map((c) => ({ count: c.count, totals: valueHidden ? [] : c.totals, deals: c.deals.map((d) => project(d as unknown as Row)) }))),
    );
  }
  const period = { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' };
  if (dealHidden('stageKey')) expect(await verdictOf(view.reports.funnel({ pipelineId: pipeline.id, ...period })), `reports.funnel refused, ${context}`).toBe('FORBIDDEN');
  else expect(strip(await view.reports.funnel({ pipelineId: pipeline.id, ...period })), `reports.funnel, ${context}`).toEqual(strip(await twin.reports.funnel({ pipelineId: pipeline.id, ...period })));
  // A readable deal's history: its visits without the fields they copy from hidden deal fields.
  const visitHidden = new Set(Object.entries(VISIT_COPIES).filter(([, of]) => of.some((f) => hidden.deal.has(f))).map(([field]) => field));
  for (const deal of [...live.deal!.values()].filter((row) => oracle.canRead('deal', row))) {
    const twinHistory = (await twin.deals.stageHistory(deal.id)) as unknown as Row[];
    expect(strip(await view.deals.stageHistory(deal.id)), `deals.stageHistory, ${context}`).toEqual(strip(twinHistory.map((v) => drop(v, visitHidden))));
  }
  // Performance groups by owner and filters by status and close or due times; amounts are left out where hidden.
  if (dealHidden('ownerId', 'status') || taskHidden('ownerId', 'status', 'dueAt')) {
    expect(await verdictOf(view.reports.performance(period)), `reports.performance refused, ${context}`).toBe('FORBIDDEN');
  } else {
    const performance = strip(await twin.reports.performance(period));
    expect(strip(await view.reports.performance(period)), `reports.performance, ${context}`).toEqual(
      valueHidden ? { ...performance, owners: performance.owners.map((o) => ({ ...o, wonValue: [] })), rows: performance.rows.map((row) => ({ ...row, wonValue: '' })) } : performance,
    );
  }
  for (const report of ['velocity', 'forecast'] as const) {
    const run = (crm: typeof twin) => (report === 'velocity' ? crm.reports.velocity(period) : crm.reports.forecast({ pipelineId: pipeline.id, by: 'month' }));
    // Velocity needs amounts and outcomes; the forecast weighted amounts too (the probability: status and stage).
    if (valueHidden || dealHidden('status') || (report === 'forecast' && dealHidden('stageKey'))) {
      expect(await verdictOf(run(view as unknown as typeof twin)), `reports.${report} refused, ${context}`).toBe('FORBIDDEN');
    } else expect(strip(await run(view as unknown as typeof twin)), `reports.${report}, ${context}`).toEqual(strip(await run(twin)));
  }
  // Workload and agenda are made of task owners, statuses and due times.
  const workload = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };
  if (taskHidden('ownerId', 'status', 'dueAt')) expect(await verdictOf(view.tasks.workload(workload)), `tasks.workload refused, ${context}`).toBe('FORBIDDEN');
  else expect(await view.tasks.workload(workload), `tasks.workload, ${context}`).toEqual(await twin.tasks.workload(workload));
  if (taskHidden('status', 'dueAt')) expect(await verdictOf(view.tasks.agenda()), `tasks.agenda refused, ${context}`).toBe('FORBIDDEN');
  else {
    const agenda = await twin.tasks.agenda();
    const projectTasks = (tasks: readonly object[]) => tasks.map((t) => drop(t as Row, hidden.task));
    expect(strip(await view.tasks.agenda()), `tasks.agenda, ${context}`).toEqual(
      strip({ ...agenda, overdue: projectTasks(agenda.overdue), today: projectTasks(agenda.today), upcoming: projectTasks(agenda.upcoming) }),
    );
  }
  // No event tells a hidden status or stage by its type.
  const types = (await view.eventLog.list({ limit: 1000 })).items.map((e) => e.type);
  const told = [...(dealHidden('status') ? ['deal.won', 'deal.lost', 'deal.reopened'] : []), ...(dealHidden('stageKey') ? ['deal.stageChanged'] : [])];
  expect(types.filter((t) => told.includes(t)), `event types, ${context}`).toEqual([]);
  await twin.close();
}

/** Deal fields the differential test hides at random, and task fields. */
const DEAL_RULED = ['value', 'ownerId', 'status', 'stageKey'];
const TASK_RULED = ['ownerId', 'status', 'dueAt'];

/** What a hidden field takes with it, as the guide states it (for the fields the test hides). */
const TAKES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  deal: {
    value: ['value', 'weightedValue', 'lineItems'],
    ownerId: ['ownerId'],
    status: ['status', 'stageKey', 'closedAt', 'closedFromStage', 'lostReason', 'lostComment', 'probability', 'probabilityManual', 'weightedValue', 'rottingSince', 'cycleMs'],
    stageKey: ['stageKey', 'probability', 'probabilityManual', 'weightedValue', 'closedFromStage', 'rottingSince'],
  },
  task: {
    ownerId: ['ownerId', 'recurrence'],
    status: ['status', 'completedAt', 'cancelledAt', 'outcome'],
    dueAt: ['dueAt', 'dueDate', 'deadlineAt', 'nextNotifyAt', 'recurrence'],
  },
};

/** A stage visit's fields and the deal fields they copy (the guide's rule for a deal's history). */
const VISIT_COPIES: Readonly<Record<string, readonly string[]>> = {
  ownerId: ['ownerId'],
  stageKey: ['stageKey'],
  fromStageKey: ['stageKey'],
  toStageKey: ['stageKey'],
  exitKind: ['stageKey', 'status'],
  closedAs: ['status'],
};

/**
 * The fields of an entity a principal may not read: the rules of its roles that grant something on
 * the entity (all its roles when none does) add up — a field is hidden when every one of them denies
 * it, and nothing is when one of them has no rule — and a hidden field takes with it what reveals it.
 */
function hiddenFields(policy: AccessPolicy, roles: readonly string[], roleNames: readonly string[], denied: readonly Record<'deal' | 'task', string[]>[], entity: 'deal' | 'task'): Set<string> {
  const granting = roles.filter((role) => Object.values((policy.roles[role]!.grants[entity] ?? {}) as Record<string, Scope>).some((scope) => scope !== 'none'));
  const considered = (granting.length ? granting : roles).map((role) => denied[roleNames.indexOf(role)]![entity]);
  const out = new Set<string>();
  if (considered.length === 0 || considered.some((deny) => deny.length === 0)) return out;
  for (const field of entity === 'deal' ? DEAL_RULED : TASK_RULED) if (considered.every((deny) => deny.includes(field))) for (const f of TAKES[entity]![field]!) out.add(f);
  return out;
}

/**
 * The property: any seed gives a dataset on which the view and the oracle agree. The runs share one
 * adapter (one database, one schema), each in a tenant of its own: tenants are isolated by contract,
 * and a fresh database per run cost PostgreSQL a schema (every table and index) per run — most of the
 * test's time on a busy machine.
 */
export async function accessDifferentialProperty(open: () => Promise<{ adapter: StorageAdapter; dispose?: () => Promise<void> }>, numRuns: number): Promise<void> {
  const { adapter, dispose } = await open();
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => accessDifferentialRun(adapter, seed, `${TENANT}-${++run}`)),
      { numRuns },
    );
  } finally {
    await adapter.close().catch(() => undefined);
    await dispose?.();
  }
}

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
  const hideValue = r.chance(0.3);
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
          ...(hideValue && i === 0 ? { fields: { deal: { read: { deny: ['value'] } } } } : {}),
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
    await root.tasks.create({ subject: `Task ${i}`, dueAt: '2026-02-03T10:00:00Z', ...owner(), ...link });
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
  // Field rules count for the roles granting something on deals (all roles when none does); role `a` hides `value`.
  const dealGrant = (role: string) => Object.values((policy.roles[role]!.grants.deal ?? {}) as Record<string, Scope>).some((scope) => scope !== 'none');
  const granting = oracle.roles.filter(dealGrant);
  const considered = granting.length ? granting : oracle.roles;
  const valueHidden = hideValue && considered.length > 0 && considered.every((role) => role === roleNames[0]);
  const project = (deal: Row) => {
    if (!valueHidden) return deal;
    const { value: _v, weightedValue: _w, lineItems: _l, ...rest } = deal;
    return rest;
  };
  const context = `seed ${seed}, principal ${JSON.stringify(principal)}`;

  // Lists, page by page, in several orders.
  const lists: [string, string, (o: object) => Promise<{ items: Row[]; nextCursor?: string }>][] = [
    ['deal', 'deals', (o) => view.deals.list(o) as never],
    ['lead', 'leads', (o) => view.leads.list(o) as never],
    ['contact', 'contacts', (o) => view.contacts.list(o) as never],
    ['company', 'companies', (o) => view.companies.list(o) as never],
    ['task', 'tasks', (o) => view.tasks.list(o) as never],
    ['activity', 'activities', (o) => view.activities.list(o) as never],
  ];
  for (const [entity, name, list] of lists) {
    const sort: SortSpec[] = [{ field: 'createdAt', direction: r.chance(0.5) ? 'asc' : 'desc' }];
    const got: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ orderBy: sort, limit: 1 + r.int(3), ...(cursor ? { cursor } : {}) });
      got.push(...page.items.map((row) => row.id));
      cursor = page.nextCursor;
    } while (cursor);
    const expected = [...live[entity]!.values()].filter((row) => oracle.canRead(entity, row)).sort(compareRows(sort)).map((row) => row.id);
    expect(got, `${name}.list, ${context}`).toEqual(expected);
  }
  // Counts per stage, the board, and the reports.
  if (!valueHidden) {
    expect(await view.deals.aggregate({ groupBy: ['stageKey'], metrics: { n: { fn: 'count' }, total: { fn: 'sum', field: 'value.amount' } } }), `deals.aggregate, ${context}`).toEqual(
      await twin.deals.aggregate({ groupBy: ['stageKey'], metrics: { n: { fn: 'count' }, total: { fn: 'sum', field: 'value.amount' } } }),
    );
  }
  // Every role grants pipelines and reports; a principal without roles (or departed) gets neither.
  if (oracle.departed || oracle.roles.length === 0) {
    for (const call of [() => view.deals.board(pipeline.id), () => view.reports.funnel({ pipelineId: pipeline.id, from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' })]) {
      const refused = await call().catch((e: unknown) => e);
      expect(isCrmError(refused, 'FORBIDDEN'), `board/report refused without roles, ${context}`).toBe(true);
    }
    await twin.close();
    return;
  }
  const board = await view.deals.board(pipeline.id, { includeClosed: true });
  const twinBoard = await twin.deals.board(pipeline.id, { includeClosed: true });
  expect(strip(board.columns.map((c) => ({ count: c.count, totals: c.totals, deals: c.deals }))), `deals.board, ${context}`).toEqual(
    strip(twinBoard.columns.map((c) => ({ count: c.count, totals: valueHidden ? [] : c.totals, deals: c.deals.map((d) => project(d as unknown as Row)) }))),
  );
  const period = { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' };
  expect(strip(await view.reports.funnel({ pipelineId: pipeline.id, ...period })), `reports.funnel, ${context}`).toEqual(strip(await twin.reports.funnel({ pipelineId: pipeline.id, ...period })));
  const performance = strip(await twin.reports.performance(period));
  expect(strip(await view.reports.performance(period)), `reports.performance, ${context}`).toEqual(
    valueHidden ? { ...performance, owners: performance.owners.map((o) => ({ ...o, wonValue: [] })), rows: performance.rows.map((row) => ({ ...row, wonValue: '' })) } : performance,
  );
  for (const report of ['velocity', 'forecast'] as const) {
    const run = (crm: typeof twin) => (report === 'velocity' ? crm.reports.velocity(period) : crm.reports.forecast({ pipelineId: pipeline.id, by: 'month' }));
    if (valueHidden) {
      const refused = await run(view as unknown as typeof twin).catch((e: unknown) => e);
      expect(isCrmError(refused, 'FORBIDDEN'), `reports.${report} refused, ${context}`).toBe(true);
    } else expect(strip(await run(view as unknown as typeof twin)), `reports.${report}, ${context}`).toEqual(strip(await run(twin)));
  }
  await twin.close();
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

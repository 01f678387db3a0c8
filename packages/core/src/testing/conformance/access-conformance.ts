import { afterEach, describe, expect, it } from 'vitest';
import type { AccessPolicy } from '../../access/access-policy.js';
import { createCrm } from '../../crm/create-crm.js';
import type { CrmWith } from '../../crm/feature.js';
import { silentLogger } from '../../crm/logger.js';
import { isCrmError } from '../../errors/crm-error.js';
import type { StorageAdapter } from '../../storage/storage-adapter.js';
import { allFeatures, type AllFeatures } from '../create-test-crm.js';
import { createFakeClock } from '../fake-clock.js';
import type { ConformanceFactory, ConformanceSubject } from './harness.js';
import { accessDifferentialProperty } from './access-differential.js';
import { toCsv } from '../../domain/analytics/csv.js';
import { accessLeakTests } from './access-leak-tests.js';
import { accessMergeTests } from './access-merge-tests.js';
import { accessReviewTests } from './access-review-tests.js';
import { accessFieldReadTests } from './access-field-read-tests.js';
import { scribble } from '../ownership.js';

type AccessCrm = CrmWith<AllFeatures>;

/** Owners of the records each cell of the matrix is tried on; `-` is an unowned record. */
const OWNERS = ['me', 'mate', 'report', 'deep', 'other', '-'] as const;
type Owner = (typeof OWNERS)[number];
/** Whose records each scope reaches for the principal `me` in the directory below. */
const REACH: Readonly<Record<string, readonly Owner[]>> = {
  none: [],
  own: ['me'],
  team: ['me', 'mate'],
  subtree: ['me', 'report', 'deep'],
  all: OWNERS,
};
const SCOPES = ['none', 'own', 'team', 'subtree', 'all'] as const;

/** `me` and `mate` are team t1 under `boss`; `report` reports to `me`, `deep` to `report`; `other` is elsewhere; `gone` left. */
const DIRECTORY = {
  teams: [{ id: 't1' }, { id: 't2' }],
  users: [
    { id: 'boss' },
    { id: 'me', managerId: 'boss', teamIds: ['t1'] },
    { id: 'mate', managerId: 'boss', teamIds: ['t1'] },
    { id: 'report', managerId: 'me' },
    { id: 'deep', managerId: 'report' },
    { id: 'other', teamIds: ['t2'] },
    { id: 'gone', managerId: 'boss', teamIds: ['t1'], departed: true },
  ],
};

interface World {
  readonly root: AccessCrm;
  readonly pipelineId: string;
  readonly strategyId: string;
}

/** Creates one record of `entity` owned by `owner` through the trusted crm; returns its id. */
async function seedRecord(w: World, entity: string, owner: Owner, n: number): Promise<string> {
  const ownerId = owner === '-' ? {} : { ownerId: owner };
  switch (entity) {
    case 'lead':
      return (await w.root.leads.create({ name: `Lead ${n}`, ...ownerId })).id;
    case 'contact':
      return (await w.root.contacts.create({ name: `Contact ${n}`, ...ownerId })).id;
    case 'company':
      return (await w.root.companies.create({ name: `Company ${n}`, ...ownerId })).id;
    case 'deal':
      return (await w.root.deals.create({ title: `Deal ${n}`, pipelineId: w.pipelineId, ...ownerId })).id;
    case 'task':
      return (await w.root.tasks.create({ subject: `Task ${n}`, dueAt: '2026-03-01T10:00:00Z', ...ownerId })).id;
    case 'activity':
      return (await w.root.activities.log({ kind: 'note', body: `Note ${n}`, ...ownerId })).id;
    default:
      throw new Error(`no seeding for ${entity}`);
  }
}

type Act = (view: AccessCrm, id: string, owner: Owner, w: World) => Promise<unknown>;

/** How each action is performed on a record through a view (create makes a record for `owner`). */
const ACTIONS: Readonly<Record<string, Readonly<Record<string, Act>>>> = {
  lead: {
    read: (v, id) => v.leads.get(id),
    create: (v, _, owner) => v.leads.create({ name: 'New lead', ownerId: owner }),
    update: (v, id) => v.leads.update(id, { name: 'Renamed' }),
    delete: (v, id) => v.leads.remove(id),
    convert: (v, id) => v.leads.convert(id),
    assign: (v, id, _, w) => v.assignment.assign({ type: 'lead', id }, w.strategyId),
    share: (v, id) => v.access.share({ type: 'lead', id }, { userId: 'mate', access: 'read' }),
  },
  contact: {
    read: (v, id) => v.contacts.get(id),
    create: (v, _, owner) => v.contacts.create({ name: 'New contact', ownerId: owner }),
    update: (v, id) => v.contacts.update(id, { name: 'Renamed' }),
    delete: (v, id) => v.contacts.remove(id),
    share: (v, id) => v.access.share({ type: 'contact', id }, { userId: 'mate', access: 'read' }),
  },
  company: {
    read: (v, id) => v.companies.get(id),
    create: (v, _, owner) => v.companies.create({ name: 'New company', ownerId: owner }),
    update: (v, id) => v.companies.update(id, { name: 'Renamed' }),
    delete: (v, id) => v.companies.remove(id),
    share: (v, id) => v.access.share({ type: 'company', id }, { teamId: 't2', access: 'write' }),
  },
  deal: {
    read: (v, id) => v.deals.get(id),
    create: (v, _, owner, w) => v.deals.create({ title: 'New deal', pipelineId: w.pipelineId, ownerId: owner }),
    update: (v, id) => v.deals.update(id, { title: 'Renamed' }),
    delete: (v, id) => v.deals.remove(id),
    advance: (v, id) => v.deals.advance(id),
    postpone: (v, id) => v.deals.postpone(id, { until: '2026-04-01T10:00:00Z' }),
    win: (v, id) => v.deals.win(id),
    lose: (v, id) => v.deals.lose(id, { reason: 'price' }),
    reopen: (v, id) => v.deals.reopen(id, { toStage: 'new' }),
    assign: (v, id, _, w) => v.assignment.assign({ type: 'deal', id }, w.strategyId),
    share: (v, id) => v.access.share({ type: 'deal', id }, { userId: 'mate', access: 'write' }),
  },
  task: {
    read: (v, id) => v.tasks.get(id),
    create: (v, _, owner) => v.tasks.create({ subject: 'New task', dueAt: '2026-03-02T10:00:00Z', ownerId: owner }),
    update: (v, id) => v.tasks.complete(id),
  },
  activity: {
    read: (v, id) => v.activities.get(id),
    create: (v, _, owner) => v.activities.log({ kind: 'call', ownerId: owner }),
  },
};

/** What a role needs besides the action under test, so the action is reachable at all. */
function supportGrants(entity: string, action: string): AccessPolicy['roles'][string]['grants'] {
  const grants: Record<string, Record<string, string>> = {};
  if (action !== 'read' && action !== 'create') grants[entity] = { read: 'all' };
  if (entity === 'lead' && action === 'convert') Object.assign(grants, { contact: { create: 'all' }, deal: { create: 'all' } });
  return grants as AccessPolicy['roles'][string]['grants'];
}

/** Entities granted as a whole, how each action is tried, and what the trial needs. */
const WHOLE: Readonly<Record<string, Readonly<Record<string, (v: AccessCrm, w: World) => Promise<unknown>>>>> = {
  pipeline: {
    read: (v, w) => v.pipelines.get(w.pipelineId),
    create: (v) => v.pipelines.create({ name: 'Another', stages: [{ key: 'a', name: 'A' }] }),
    update: (v, w) => v.pipelines.update(w.pipelineId, { name: 'Renamed' }),
  },
  customField: {
    read: (v) => v.customFields.list('deal'),
    create: (v) => v.customFields.define({ entity: 'deal', key: 'extra', label: 'Extra', type: 'text' }),
    update: (v) => v.customFields.update('deal', 'budget', { label: 'Budget (EUR)' }),
  },
  setting: {
    read: (v) => v.calendar.get(),
    update: (v) => v.tasks.defineType({ key: 'visit', label: 'Visit' }),
  },
  report: {
    read: (v, w) => v.reports.funnel({ pipelineId: w.pipelineId, from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' }),
  },
};

async function outcome(promise: Promise<unknown>): Promise<'allowed' | 'NOT_FOUND' | 'FORBIDDEN' | string> {
  try {
    await promise;
    return 'allowed';
  } catch (error) {
    if (isCrmError(error)) return error.code;
    throw error;
  }
}

/**
 * Registers the access-control suite for an adapter: the paired allow/deny matrix (every scope ×
 * action × entity, on records of the principal, its team, its reports, another user and nobody,
 * plus a departed user with the same role), and the rules that must hold whatever the engine:
 * shares, related records following their parent, field rules, `WITH CHECK`, links, departed users'
 * records, and event visibility. Every row scope is a filter pushed down to storage, so each adapter
 * proves here that it evaluates them as core's matcher does.
 *
 * @param name Suite name, e.g. `'sqlite (memory)'`.
 * @param factory Makes a fresh, empty, unopened adapter (or subject) per test.
 * @example
 * describeAccessConformance('memory', () => createMemoryStorage());
 */
export function describeAccessConformance(name: string, factory: ConformanceFactory, options: { timeout?: number; numRuns?: number } = {}): void {
  let subjects: ConformanceSubject[] = [];
  const open = async (): Promise<World> => {
    const made = await factory();
    const subject = 'adapter' in made ? made : { adapter: made };
    subjects.push(subject);
    const storage: StorageAdapter = subject.adapter;
    const root = await createCrm({ storage, tenantId: 'access', clock: createFakeClock('2026-02-01T09:00:00.000Z'), logger: silentLogger, random: { seed: name }, features: allFeatures() });
    const pipeline = await root.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'next', name: 'Next' }] });
    await root.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'number' });
    const strategy = await root.assignment.createStrategy({ name: 'To mate', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'mate' }] });
    await root.access.setDirectory(DIRECTORY);
    return { root, pipelineId: pipeline.id, strategyId: strategy.id };
  };
  const policyOf = (grants: AccessPolicy['roles'][string]['grants'], extra: Partial<AccessPolicy['roles'][string]> = {}): AccessPolicy => ({ roles: { r: { grants, ...extra } }, defaultRoles: ['r'] });

  describe(`access control: ${name}`, { timeout: options.timeout ?? 120_000 }, () => {
    afterEach(async () => {
      for (const s of subjects) {
        await s.adapter.close().catch(() => undefined);
        await s.dispose?.();
      }
      subjects = [];
    });

    for (const [entity, actions] of Object.entries(ACTIONS)) {
      it(`matrix: ${entity} × ${Object.keys(actions).join('/')} × every scope, allowed and refused`, async () => {
        const w = await open();
        // A strategy for deals too (the one above routes leads).
        const dealStrategy = entity === 'deal' ? (await w.root.assignment.createStrategy({ name: 'Deals to mate', entity: 'deal', kind: 'roundRobin', owners: [{ userId: 'mate' }] })).id : w.strategyId;
        const world = { ...w, strategyId: dealStrategy };
        let n = 0;
        const failures: string[] = [];
        for (const [action, act] of Object.entries(actions)) {
          for (const scope of SCOPES) {
            await w.root.access.setPolicy(policyOf({ ...supportGrants(entity, action), [entity]: { ...supportGrants(entity, action)[entity as 'deal'], [action]: scope } }));
            const me = w.root.as({ userId: 'me' });
            const gone = w.root.as({ userId: 'gone' });
            for (const owner of OWNERS) {
              if (action === 'create' && owner === '-') continue; // a view's new records always have an owner
              const id = action === 'create' ? '' : await seedRecord(world, entity, owner, ++n);
              if (action === 'reopen') await w.root.deals.win(id);
              const expected = REACH[scope]!.includes(owner) ? 'allowed' : action === 'read' ? 'NOT_FOUND' : 'FORBIDDEN';
              const got = await outcome(act(me, id, owner, world));
              if (got !== expected) failures.push(`${entity}.${action} scope ${scope}, record of ${owner}: expected ${expected}, got ${got}`);
              if (action === 'read') {
                // The list agrees with get: the scope is the same pushed-down filter.
                const listed = await (me as unknown as Record<string, { list(o: object): Promise<{ items: { id: string }[] }> }>)[`${entity === 'activity' ? 'activities' : entity === 'company' ? 'companies' : `${entity}s`}`]!.list({ limit: 1000 });
                if (listed.items.some((r) => r.id === id) !== (expected === 'allowed')) failures.push(`${entity}.list scope ${scope}: record of ${owner} ${expected === 'allowed' ? 'missing' : 'listed'}`);
              }
              if (scope === 'all' && owner === 'me' && action !== 'create') {
                // The departed user holds the same role and reaches nothing.
                const refused = await outcome(act(gone, await seedRecord(world, entity, 'me', ++n), 'me', world));
                if (refused === 'allowed') failures.push(`${entity}.${action}: a departed user was allowed`);
              }
            }
          }
        }
        expect(failures).toEqual([]);
      });
    }

    it('matrix: configuration and reports are granted as a whole (all or none), allowed and refused', async () => {
      const w = await open();
      const failures: string[] = [];
      for (const [entity, actions] of Object.entries(WHOLE)) {
        for (const [action, act] of Object.entries(actions)) {
          for (const scope of ['all', 'none'] as const) {
            await w.root.access.setPolicy(policyOf({ [entity]: { [action]: scope } }));
            const got = await outcome(act(w.root.as({ userId: 'me' }), w));
            const expected = scope === 'all' ? 'allowed' : 'FORBIDDEN';
            if (got !== expected) failures.push(`${entity}.${action} ${scope}: expected ${expected}, got ${got}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it('shares: a read share shows one record (and its tasks) to a user or a team, a write share lets them change it; unsharing takes it back', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { '*': 'own' }, task: { '*': 'own' } }));
      const deal = await w.root.deals.create({ title: 'Shared', pipelineId: w.pipelineId, ownerId: 'other' });
      const task = await w.root.tasks.create({ subject: 'Call', dueAt: '2026-03-01T10:00:00Z', dealId: deal.id, ownerId: 'other' });
      const me = w.root.as({ userId: 'me' });
      const mate = w.root.as({ userId: 'mate' });
      expect(await outcome(me.deals.get(deal.id))).toBe('NOT_FOUND');
      await w.root.access.share({ type: 'deal', id: deal.id }, { userId: 'me', access: 'read' });
      expect((await me.deals.get(deal.id)).title).toBe('Shared');
      expect((await me.deals.list()).items.map((d) => d.id)).toEqual([deal.id]);
      expect((await me.tasks.list()).items.map((t) => t.id)).toEqual([task.id]);
      expect(await outcome(me.deals.update(deal.id, { title: 'x' }))).toBe('FORBIDDEN');
      expect(await outcome(mate.deals.get(deal.id))).toBe('NOT_FOUND');
      await w.root.access.share({ type: 'deal', id: deal.id }, { teamId: 't1', access: 'write' });
      expect((await mate.deals.update(deal.id, { title: 'Edited by mate' })).title).toBe('Edited by mate');
      expect((await mate.deals.advance(deal.id)).stageKey).toBe('next');
      expect(await outcome(mate.deals.remove(deal.id))).toBe('FORBIDDEN');
      await w.root.access.unshare({ type: 'deal', id: deal.id }, { teamId: 't1' });
      expect(await outcome(mate.deals.get(deal.id))).toBe('NOT_FOUND');
      expect((await mate.tasks.list()).items).toEqual([]);
      expect((await me.tasks.list()).items.map((t) => t.id)).toEqual([task.id]);
    });

    it('related records follow their parent: tasks, activities and stage history of a readable deal, also after it is reassigned', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { '*': 'own', assign: 'all' }, task: { read: 'own' }, activity: { read: 'own' }, report: { read: 'all' } }));
      const deal = await w.root.deals.create({ title: 'Followed', pipelineId: w.pipelineId, ownerId: 'me' });
      const task = await w.root.tasks.create({ subject: 'Theirs on my deal', dueAt: '2026-03-01T10:00:00Z', dealId: deal.id, ownerId: 'other' });
      const note = await w.root.activities.log({ kind: 'note', dealId: deal.id, ownerId: 'other' });
      const loose = await w.root.tasks.create({ subject: 'Loose', dueAt: '2026-03-01T10:00:00Z', ownerId: 'other' });
      await w.root.deals.advance(deal.id);
      const me = w.root.as({ userId: 'me' });
      const mate = w.root.as({ userId: 'mate' });
      expect((await me.tasks.get(task.id)).subject).toBe('Theirs on my deal');
      expect((await me.activities.list()).items.map((a) => a.id)).toEqual([note.id]);
      expect((await me.deals.stageHistory(deal.id)).map((v) => v.stageKey)).toEqual(['new', 'next']);
      expect(await outcome(me.tasks.get(loose.id))).toBe('NOT_FOUND');
      const drillVisits = await me.reports.funnel({ pipelineId: w.pipelineId, from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' });
      expect(drillVisits.stages.map((s) => s.entered)).toEqual([1, 1, 0, 0]);
      // Handing the deal to mate (assign: all) moves its tasks, activities and history along, in the same transaction.
      await me.deals.update(deal.id, { ownerId: 'mate' });
      expect(await outcome(me.tasks.get(task.id))).toBe('NOT_FOUND');
      expect((await me.activities.list()).items).toEqual([]);
      expect((await mate.tasks.list()).items.map((t) => t.id)).toEqual([task.id]);
      expect((await mate.deals.stageHistory(deal.id)).length).toBe(2);
      expect((await me.reports.funnel({ pipelineId: w.pipelineId, from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' })).stages.map((s) => s.entered)).toEqual([0, 0, 0, 0]);
    });

    it('field rules: hidden fields are absent from records, lists, boards, timelines and events; filtering or writing them is FORBIDDEN', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { read: 'all', update: 'all' }, pipeline: { read: 'all' } }, { fields: { deal: { read: { deny: ['value', 'custom.budget'] } } } }));
      const deal = await w.root.deals.create({ title: 'Secret amount', pipelineId: w.pipelineId, ownerId: 'other', value: { amount: 990_00, currency: 'EUR' }, custom: { budget: 5 } });
      const view = w.root.as({ userId: 'me' });
      const seen: unknown[] = [];
      const off = view.on('deal.updated', (e) => seen.push(e.data));
      const read = await view.deals.get(deal.id);
      expect(read).not.toHaveProperty('value');
      expect(read).not.toHaveProperty('weightedValue');
      expect(read).not.toHaveProperty('lineItems');
      expect(read.custom).toEqual({});
      expect((await view.deals.list()).items[0]).not.toHaveProperty('value');
      const board = await view.deals.board(w.pipelineId);
      expect(board.columns[0]!.count).toBe(1);
      expect(board.columns[0]!.totals).toEqual([]);
      expect(board.columns[0]!.deals[0]).not.toHaveProperty('value');
      expect(await outcome(view.deals.list({ where: { op: 'gte', field: 'value.amount', value: 1 } }))).toBe('FORBIDDEN');
      expect(await outcome(view.deals.list({ orderBy: [{ field: 'custom.budget' }] }))).toBe('FORBIDDEN');
      expect(await outcome(view.deals.aggregate({ metrics: { total: { fn: 'sum', field: 'value.amount' } } }))).toBe('FORBIDDEN');
      expect(await outcome(view.deals.update(deal.id, { value: { amount: 1, currency: 'EUR' } }))).toBe('FORBIDDEN');
      expect(await outcome(view.deals.update(deal.id, { custom: { budget: 7 } }))).toBe('FORBIDDEN');
      await w.root.deals.update(deal.id, { value: { amount: 1000_00, currency: 'EUR' }, title: 'Secret amount 2' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      off();
      expect(seen).toEqual([{ changes: { title: { from: 'Secret amount', to: 'Secret amount 2' } } }]);
      const timeline = await view.timeline({ type: 'deal', id: deal.id });
      const created = timeline.items.find((e) => e.type === 'deal.created')!;
      expect((created.data as { deal: object }).deal).not.toHaveProperty('value');
      const updated = timeline.items.find((e) => e.type === 'deal.updated')!;
      expect(Object.keys((updated.data as { changes: object }).changes)).toEqual(['title']);
      const stored = await w.root.deals.get(deal.id);
      expect(stored.value.amount).toBe(1000_00);
    });

    it('WITH CHECK: a change may not move a record out of the writer\'s scope unless assignment is granted; creating for others needs the scope', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { read: 'own', create: 'own', update: 'own' }, contact: { '*': 'team' } }));
      const deal = await w.root.deals.create({ title: 'Mine', pipelineId: w.pipelineId, ownerId: 'me' });
      const me = w.root.as({ userId: 'me' });
      const refused = await me.deals.update(deal.id, { ownerId: 'other' }).catch((e: unknown) => e);
      expect(isCrmError(refused, 'FORBIDDEN') && refused.details).toMatchObject({ action: 'deal.assign', entity: 'deal', id: deal.id, rule: { entity: 'deal', action: 'assign', roles: { r: 'none' } } });
      expect((await w.root.deals.get(deal.id)).ownerId).toBe('me');
      expect(await outcome(me.deals.create({ title: 'For other', pipelineId: w.pipelineId, ownerId: 'other' }))).toBe('FORBIDDEN');
      const contact = await me.contacts.create({ name: 'Ours' });
      expect(await outcome(me.contacts.update(contact.id, { ownerId: 'mate' }))).toBe('allowed');
      expect(await outcome(me.contacts.update(contact.id, { ownerId: 'other' }))).toBe('FORBIDDEN');
      await w.root.access.setPolicy(policyOf({ deal: { read: 'own', update: 'own', assign: 'own' } }));
      expect((await me.deals.update(deal.id, { ownerId: 'other' })).ownerId).toBe('other');
      expect(await outcome(me.deals.get(deal.id))).toBe('NOT_FOUND');
    });

    it('links: a record may not reference one its author cannot read; funnel.check reports FORBIDDEN without writing', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { '*': 'own' }, contact: { '*': 'own' }, task: { '*': 'own' } }));
      const hidden = await w.root.contacts.create({ name: 'Hidden', ownerId: 'other' });
      const otherDeal = await w.root.deals.create({ title: 'Not mine', pipelineId: w.pipelineId, ownerId: 'other' });
      const me = w.root.as({ userId: 'me' });
      const refused = await me.deals.create({ title: 'Link', pipelineId: w.pipelineId, contactId: hidden.id }).catch((e: unknown) => e);
      expect(isCrmError(refused, 'VALIDATION') && refused.details.issues[0]).toMatchObject({ path: ['contactId'], code: 'not_found' });
      expect(await outcome(me.tasks.create({ subject: 'On their deal', dueAt: '2026-03-01T10:00:00Z', dealId: otherDeal.id }))).toBe('VALIDATION');
      await w.root.access.share({ type: 'deal', id: otherDeal.id }, { userId: 'me', access: 'read' });
      const verdict = await me.funnel.check(otherDeal.id, { type: 'advance' });
      expect(verdict.allowed).toBe(false);
      expect(verdict.violations[0]).toMatchObject({ rule: 'access.forbidden', data: { action: 'deal.advance' } });
      expect((await w.root.deals.get(otherDeal.id)).stageKey).toBe('new');
      expect(await outcome(me.funnel.check(hidden.id, { type: 'advance' }))).toBe('NOT_FOUND');
    });

    it('departed users: their records stay (visible to scopes that cover them) until reassign moves them all, with events', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { '*': 'team' }, lead: { '*': 'team' }, task: { '*': 'team' } }));
      const deals = [];
      for (let i = 0; i < 5; i++) deals.push(await w.root.deals.create({ title: `Gone's ${i}`, pipelineId: w.pipelineId, ownerId: 'gone' }));
      const lead = await w.root.leads.create({ name: 'Gone lead', ownerId: 'gone' });
      const task = await w.root.tasks.create({ subject: 'Open', dueAt: '2026-03-01T10:00:00Z', ownerId: 'gone' });
      expect((await w.root.as({ userId: 'mate' }).deals.list()).items).toHaveLength(5); // still in team t1
      expect(await outcome(w.root.as({ userId: 'gone' }).deals.get(deals[0]!.id))).toBe('NOT_FOUND');
      const report = await w.root.access.reassign({ from: 'gone', to: 'mate', batchSize: 2 });
      expect(report).toEqual({ lead: 1, contact: 0, company: 0, deal: 5, task: 1 });
      expect((await w.root.deals.list({ where: { op: 'eq', field: 'ownerId', value: 'mate' } })).items).toHaveLength(5);
      expect((await w.root.leads.get(lead.id)).ownerId).toBe('mate');
      expect((await w.root.tasks.get(task.id)).ownerId).toBe('mate');
      const assigned = await w.root.eventLog.list({ where: { op: 'eq', field: 'type', value: 'deal.assigned' }, limit: 100 });
      expect(assigned.items.map((e) => (e.data as { previousOwnerId: string }).previousOwnerId)).toEqual(['gone', 'gone', 'gone', 'gone', 'gone']);
      expect(await outcome(w.root.access.reassign({ from: 'gone', to: 'gone' }))).toBe('VALIDATION');
    });

    it('differential: random policies, principals, hierarchies and histories — every list, count, board and report of a view equals the oracle over the rows it may read', async () => {
      await accessDifferentialProperty(async () => {
        const made = await factory();
        const subject = 'adapter' in made ? made : { adapter: made };
        return { adapter: subject.adapter, ...(subject.dispose ? { dispose: subject.dispose } : {}) };
      }, options.numRuns ?? 20);
    });

    it('the event log and timelines show only events whose subject is readable now, pages stay full, and counts of hidden events never show', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { '*': 'own' }, contact: { '*': 'all' } }));
      const contact = await w.root.contacts.create({ name: 'Shared client', ownerId: 'me' });
      const mine = [];
      for (let i = 0; i < 3; i++) {
        await w.root.deals.create({ title: `Theirs ${i}`, pipelineId: w.pipelineId, ownerId: 'other', contactId: contact.id });
        mine.push(await w.root.deals.create({ title: `Mine ${i}`, pipelineId: w.pipelineId, ownerId: 'me', contactId: contact.id }));
      }
      const me = w.root.as({ userId: 'me' });
      const first = await me.timeline({ type: 'contact', id: contact.id }, { limit: 2 });
      expect(first.items).toHaveLength(2);
      expect(first.nextCursor).toBeDefined();
      const rest = await me.timeline({ type: 'contact', id: contact.id }, { limit: 2, cursor: first.nextCursor });
      const all = [...first.items, ...rest.items];
      expect(rest.nextCursor).toBeUndefined();
      const dealEvents = all.filter((e) => e.subjectType === 'deal');
      expect(dealEvents.map((e) => e.subjectId).sort()).toEqual(mine.map((d) => d.id).sort());
      expect(all.filter((e) => e.subjectType === 'contact')).toHaveLength(1);
      for (const e of all) for (const ref of e.refs) if (ref.startsWith('deal:')) expect(mine.map((d) => `deal:${d.id}`)).toContain(ref);
      const log = await me.eventLog.list({ where: { op: 'eq', field: 'type', value: 'deal.created' }, limit: 1000 });
      expect(log.items.map((e) => e.subjectId).sort()).toEqual(mine.map((d) => d.id).sort());
      expect(log.nextCursor).toBeUndefined();
    });

    it('the change feed of a view: read and consumers hand out only events about readable records, field-projected; consumers are per principal', async () => {
      const w = await open();
      await w.root.access.setPolicy(policyOf({ deal: { '*': 'own' }, pipeline: { read: 'all' } }, { fields: { deal: { read: { deny: ['value'] } } } }));
      const start = await w.root.events.head();
      const mine: string[] = [];
      for (let i = 0; i < 4; i++) {
        await w.root.deals.create({ title: `Theirs ${i}`, pipelineId: w.pipelineId, ownerId: 'other', value: { amount: 100_00, currency: 'EUR' } });
        const deal = await w.root.deals.create({ title: `Mine ${i}`, pipelineId: w.pipelineId, ownerId: 'me', value: { amount: 200_00, currency: 'EUR' } });
        await w.root.deals.update(deal.id, { title: `Mine ${i}!`, value: { amount: 300_00, currency: 'EUR' } });
        mine.push(deal.id);
      }
      const me = w.root.as({ userId: 'me' });
      // Pages stay full (limit honoured) and continue from their position; hidden events never show.
      const seen: { id: string; subjectId: string; type: string; data: unknown; position?: number }[] = [];
      let after = start;
      for (let guard = 0; guard < 20; guard++) {
        const page = await me.events.read({ after, limit: 3 });
        if (page.hasMore) expect(page.events).toHaveLength(3);
        seen.push(...page.events);
        after = page.position;
        if (!page.hasMore) break;
      }
      const expected = (await w.root.events.read({ after: start, limit: 1000 })).events.filter((e) => e.subjectType === 'deal' && mine.includes(e.subjectId));
      expect(seen.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expect(expected.length).toBe(8);
      for (const e of seen) expect(JSON.stringify(e.data)).not.toContain('"value"');
      const updated = seen.find((e) => e.type === 'deal.updated')!;
      expect(Object.keys((updated.data as { changes: object }).changes)).toEqual(['title']);
      expect((await me.events.read({ after: start, limit: 100, types: ['deal.updated'] })).events.map((e) => e.subjectId)).toEqual(mine);
      // Projected events are frozen like the crm's own: nothing in them can be changed.
      expect(seen.map((e) => scribble(e))).toEqual(seen.map(() => 0));

      // A view's consumer sees the same events; its checkpoint is its principal's own.
      const handled: string[] = [];
      const data: unknown[] = [];
      const changed: number[] = [];
      const consumer = await me.events.consume('mailer', (e) => { handled.push(e.id); data.push(e.data); changed.push(scribble(e)); }, { start: false, partitions: 1, from: start });
      await consumer.drain();
      expect(handled).toEqual(expected.map((e) => e.id));
      expect(changed).toEqual(handled.map(() => 0));
      for (const d of data) expect(JSON.stringify(d)).not.toContain('"value"');
      expect((await consumer.status()).name).toBe('mailer');
      expect((await me.events.status('mailer')).lag).toBe(0);
      const otherHandled: string[] = [];
      const other = await w.root.as({ userId: 'other' }).events.consume('mailer', (e) => { otherHandled.push(e.subjectId); }, { start: false, partitions: 1, from: start });
      await other.drain();
      expect(otherHandled.length).toBe(4);
      for (const id of otherHandled) expect(mine).not.toContain(id);
      expect((await me.events.consumers()).map((c) => c.name)).toEqual(['mailer']);
      expect((await w.root.events.consumers()).map((c) => c.name).sort()).toEqual(['view:me:mailer', 'view:other:mailer']);
      expect(await outcome(w.root.events.consume('view:me:mailer', () => undefined, { start: false }))).toBe('VALIDATION');
      expect(await outcome(me.events.prune({ through: start }))).toBe('FORBIDDEN');
      // Later events: a deal of another user stays hidden, one handed to me shows (judged on delivery).
      const handed = await w.root.deals.create({ title: 'Handed over', pipelineId: w.pipelineId, ownerId: 'other' });
      await w.root.deals.update(handed.id, { ownerId: 'me' });
      handled.length = 0;
      await consumer.drain();
      expect(handled).toHaveLength(2);
      await consumer.stop();
      await other.stop();
      expect(await me.events.remove('mailer')).toBe(true);
      expect((await w.root.events.consumers()).map((c) => c.name)).toEqual(['view:other:mailer']);
    });

    it('no leak on any read path: lists, counts, boards, aggregates, timelines, agenda, duplicates, reports and their CSV never carry a hidden record or field', async () => {
      const w = await open();
      await w.root.access.setPolicy(
        policyOf(
          { deal: { read: 'own', update: 'own' }, contact: { read: 'own', update: 'own' }, company: { '*': 'own' }, lead: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, report: { read: 'all' } },
          { fields: { deal: { read: { deny: ['custom.budget'] } }, contact: { read: { deny: ['phone'] } } } },
        ),
      );
      // Hidden records carry "SECRET" in their names; the hidden field values are 424242 and 0612345678.
      const company = await w.root.companies.create({ name: 'SECRET Corp', ownerId: 'other' });
      const hiddenContact = await w.root.contacts.create({ name: 'SECRET Person', email: 'shared@example.com', ownerId: 'other', companyId: company.id });
      const myContact = await w.root.contacts.create({ name: 'Mine Person', email: 'shared@example.com', phone: '+33612345678', ownerId: 'me' });
      const myDeal = await w.root.deals.create({ title: 'Mine deal', pipelineId: w.pipelineId, ownerId: 'me', contactId: myContact.id, value: { amount: 100_00, currency: 'EUR' }, custom: { budget: 424242 } });
      const hiddenIds = [company.id, hiddenContact.id];
      for (let i = 0; i < 3; i++) {
        // Their deals reference my contact: its timeline must not show them.
        const deal = await w.root.deals.create({ title: `SECRET deal ${i}`, pipelineId: w.pipelineId, ownerId: 'other', contactId: myContact.id, value: { amount: 999_00, currency: 'EUR' } });
        hiddenIds.push(deal.id);
        hiddenIds.push((await w.root.tasks.create({ subject: `SECRET task ${i}`, dueAt: '2026-02-01T10:00:00Z', dealId: deal.id })).id);
        hiddenIds.push((await w.root.activities.log({ kind: 'note', body: `SECRET note ${i}`, dealId: deal.id })).id);
        if (i === 0) await w.root.deals.win(deal.id);
      }
      await w.root.deals.advance(myDeal.id);
      await w.root.deals.win(myDeal.id);
      await w.root.tasks.create({ subject: 'Mine task', dueAt: '2026-02-01T10:00:00Z', dealId: myDeal.id });
      const myOpen = await w.root.deals.create({ title: 'Mine open', pipelineId: w.pipelineId, ownerId: 'me' });
      hiddenIds.push((await w.root.leads.create({ name: 'SECRET lead', email: 'shared@example.com', ownerId: 'other' })).id);
      const me = w.root.as({ userId: 'me' });
      const window = { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' };
      const results: Record<string, unknown> = {
        deals: await me.deals.list({ limit: 100 }),
        contacts: await me.contacts.list({ limit: 100 }),
        companies: await me.companies.list({ limit: 100 }),
        leads: await me.leads.list({ limit: 100 }),
        tasks: await me.tasks.list({ limit: 100 }),
        activities: await me.activities.list({ limit: 100 }),
        aggregate: await me.deals.aggregate({ groupBy: ['stageKey'], metrics: { n: { fn: 'count' }, total: { fn: 'sum', field: 'value.amount' } } }),
        board: await me.deals.board(w.pipelineId),
        timeline: await me.timeline({ type: 'contact', id: myContact.id }, { limit: 100 }),
        dealTimeline: await me.timeline({ type: 'deal', id: myDeal.id }, { limit: 100 }),
        eventLog: await me.eventLog.list({ limit: 1000 }),
        agenda: await me.tasks.agenda({ limit: 100 }),
        workload: await me.tasks.workload(window),
        duplicates: await me.duplicates.find({ email: 'shared@example.com', name: 'SECRET Person' }),
        funnel: await me.reports.funnel({ pipelineId: w.pipelineId, ...window }),
        velocity: await me.reports.velocity({ pipelineId: w.pipelineId, ...window }),
        performance: await me.reports.performance(window),
        customers: await me.reports.customers({ limit: 100 }),
        drillDeals: await me.reports.drill({ entity: 'deal', where: { op: 'eq', field: 'pipelineId', value: w.pipelineId } }, { limit: 100 }),
        drillEvents: await me.reports.drill({ entity: 'event', where: { op: 'eq', field: 'type', value: 'deal.won' } }, { limit: 100 }),
      };
      for (const key of ['funnel', 'velocity', 'performance', 'customers'] as const) results[`${key}Csv`] = toCsv((results[key] as { rows: Parameters<typeof toCsv>[0] }).rows);
      for (const [key, value] of Object.entries(results)) {
        const text = JSON.stringify(value);
        expect(text, key).not.toContain('SECRET');
        expect(text, key).not.toContain('424242');
        expect(text, key).not.toContain('612345678');
        expect(text, key).not.toContain('999');
        for (const id of hiddenIds) expect(text, `${key} names hidden ${id}`).not.toContain(id);
      }
      // Counts are of the visible rows only, on every path.
      expect((results.deals as { items: unknown[] }).items).toHaveLength(2);
      expect((results.aggregate as { values: { n: number } }[]).reduce((sum, g) => sum + g.values.n, 0)).toBe(2);
      expect((results.board as { columns: { count: number }[] }).columns.reduce((sum, c) => sum + c.count, 0)).toBe(1);
      expect((results.drillDeals as { items: { id: string }[] }).items.map((d) => d.id).sort()).toEqual([myDeal.id, myOpen.id].sort());
      expect((results.drillEvents as { items: { subjectId: string }[] }).items.map((e) => e.subjectId)).toEqual([myDeal.id]);
      expect((results.duplicates as { record: { id: string } }[]).map((d) => d.record.id)).toEqual([myContact.id]);
      const dealRead = await me.deals.get(myDeal.id);
      expect(dealRead.custom).toEqual({});
      expect(await me.contacts.get(myContact.id)).not.toHaveProperty('phone');
      // Writes may not move a visible record out of the writer's scope (WITH CHECK), nor link a hidden one.
      expect(await outcome(me.deals.update(myDeal.id, { ownerId: 'other' }))).toBe('FORBIDDEN');
      expect(await outcome(me.contacts.update(myContact.id, { ownerId: 'mate' }))).toBe('FORBIDDEN');
      expect(await outcome(me.contacts.update(myContact.id, { companyId: company.id }))).toBe('VALIDATION');
      expect(await outcome(me.deals.update(myDeal.id, { custom: { budget: 1 } }))).toBe('FORBIDDEN');
      const stored = await w.root.deals.get(myDeal.id);
      expect([stored.ownerId, stored.custom.budget]).toEqual(['me', 424242]);
      expect((await w.root.contacts.get(myContact.id)).ownerId).toBe('me');
      expect((await w.root.contacts.get(myContact.id)).companyId).toBeUndefined();
    });

    accessLeakTests(open);
    accessMergeTests(open);
    accessReviewTests(open);
    accessFieldReadTests(open);
  });
}

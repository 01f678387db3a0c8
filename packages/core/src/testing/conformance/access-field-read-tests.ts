import { expect, it } from 'vitest';
import type { AccessPolicy } from '../../access/access-policy.js';
import { isCrmError } from '../../errors/crm-error.js';
import type { LeakWorld } from './access-leak-tests.js';
import { compareRows } from '../../query/compare.js';

type Grants = AccessPolicy['roles'][string]['grants'];
type Fields = AccessPolicy['roles'][string]['fields'];

/** Reads everything (support): only the field rules restrict it. */
const READ_ALL: Grants = { deal: { read: 'all' }, task: { read: 'all' }, activity: { read: 'all' }, lead: { read: 'all' }, contact: { read: 'all' }, company: { read: 'all' }, pipeline: { read: 'all' }, report: { read: 'all' } };
const PERIOD = { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' };
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
/** Ids newest first (ties by id): the order a list falls back to. */
const newest = (...rows: { id: string; createdAt: string }[]) => [...rows].sort(compareRows([{ field: 'createdAt', direction: 'desc' }])).map((r) => r.id);

const policy = (fields: Fields, grants: Grants = READ_ALL): AccessPolicy => ({ roles: { sup: { grants, fields } }, defaultRoles: ['sup'] }) as AccessPolicy;

/** `allowed`, or the code of the `CrmError` (with the refused fields for `FORBIDDEN`). */
async function verdict(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'allowed';
  } catch (error) {
    if (!isCrmError(error)) throw error;
    const fields = (error.details as { fields?: string[] }).fields;
    return fields ? `${error.code} ${fields.join(',')}` : error.code;
  }
}

/**
 * Field rules on the reads whose fields a service chooses itself (review 11k #1, #2), run on every
 * adapter by the access suite: a read that groups, sorts or filters by a hidden field is refused
 * (`FORBIDDEN` naming it); a history row loses its hidden fields; an event whose type tells a hidden
 * field is not shown; a default order on a hidden field falls back to newest first.
 */
export function accessFieldReadTests(open: () => Promise<LeakWorld>): void {
  it('deal stage, status and owner hidden: history projected, board, funnel, stage-visit drill-down and rotting list refused, won/moved events hidden', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy({ deal: { read: { deny: ['status', 'stageKey', 'ownerId'] } } }));
    const sue = w.root.as({ userId: 'sue' });
    const start = await w.root.events.head();
    const seen: string[] = [];
    const off = sue.on('*', (e) => seen.push(e.type));
    const d = await w.root.deals.create({ title: 'D', pipelineId: w.pipelineId, ownerId: 'secret-owner' });
    await w.root.deals.advance(d.id);
    await w.root.deals.win(d.id);
    await settle();
    off();
    const got = await sue.deals.get(d.id);
    expect(['stageKey', 'ownerId', 'status'].filter((f) => f in got)).toEqual([]);

    // The history follows the deal's field rules: a visit's owner, stages, exit and outcome are gone.
    const history = await sue.deals.stageHistory(d.id);
    expect(history).toHaveLength(3);
    const text = JSON.stringify(history);
    expect(text).not.toContain('secret-owner');
    expect(text).not.toContain('"next"');
    expect(text).not.toContain('won');
    for (const visit of history) expect(Object.keys(visit).filter((k) => ['ownerId', 'stageKey', 'fromStageKey', 'toStageKey', 'exitKind', 'closedAs'].includes(k))).toEqual([]);
    expect(history.map((v) => v.dealId)).toEqual([d.id, d.id, d.id]);

    // Reads made of the stage or the status are refused, naming what they need.
    expect(await verdict(sue.deals.board(w.pipelineId))).toBe('FORBIDDEN stageKey');
    expect(await verdict(sue.reports.funnel({ pipelineId: w.pipelineId, ...PERIOD }))).toMatch(/^FORBIDDEN .*stageKey/);
    expect(await verdict(sue.reports.drill({ entity: 'stageVisit', where: { op: 'eq', field: 'closedAs', value: 'won' } }))).toBe('FORBIDDEN closedAs');
    expect(await verdict(sue.reports.drill({ entity: 'stageVisit', where: { op: 'eq', field: 'dealId', value: d.id } }))).toBe('allowed');
    expect(await verdict(sue.deals.list({ rotting: true }))).toMatch(/^FORBIDDEN /);
    expect(await verdict(sue.deals.list())).toBe('allowed');

    // Event types that state the status or the stage are not shown, on every event path.
    const log = (await sue.eventLog.list({ where: { op: 'eq', field: 'subjectId', value: d.id }, limit: 100 })).items.map((e) => e.type);
    const timeline = (await sue.timeline({ type: 'deal', id: d.id })).items.map((e) => e.type);
    const feed = (await sue.events.read({ after: start, limit: 100 })).events.filter((e) => e.subjectId === d.id).map((e) => e.type);
    for (const [path, types] of [['eventLog', log], ['timeline', timeline], ['feed', feed], ['on', seen]] as const) {
      expect(types, path).toContain('deal.created');
      expect(types.filter((t) => t === 'deal.won' || t === 'deal.stageChanged'), path).toEqual([]);
    }
    expect((await w.root.timeline({ type: 'deal', id: d.id })).items.map((e) => e.type)).toEqual(expect.arrayContaining(['deal.won', 'deal.stageChanged']));
  });

  it('deal status or owner hidden: reports.performance, owner filters of velocity and forecast refused; a hidden stage entry drops the history times', async () => {
    const w = await open();
    const d = await w.root.deals.create({ title: 'D', pipelineId: w.pipelineId, ownerId: 'secret-owner', value: { amount: 100, currency: 'EUR' } });
    await w.root.deals.win(d.id);
    const sue = w.root.as({ userId: 'sue' });
    await w.root.access.setPolicy(policy({ deal: { read: { deny: ['status'] } } }));
    expect(await verdict(sue.reports.performance(PERIOD))).toMatch(/^FORBIDDEN .*status/);
    await w.root.access.setPolicy(policy({ deal: { read: { deny: ['ownerId'] } } }));
    expect(await verdict(sue.reports.performance(PERIOD))).toBe('FORBIDDEN ownerId');
    expect(await verdict(sue.reports.velocity({ ...PERIOD, ownerId: 'secret-owner' }))).toBe('FORBIDDEN ownerId');
    expect(await verdict(sue.reports.forecast({ pipelineId: w.pipelineId, by: 'month', ownerId: 'secret-owner' }))).toBe('FORBIDDEN ownerId');
    expect(await verdict(sue.reports.velocity(PERIOD))).toBe('allowed');
    expect(await verdict(sue.reports.funnel({ pipelineId: w.pipelineId, ...PERIOD }))).toBe('allowed');
    expect(await verdict(sue.reports.funnel({ pipelineId: w.pipelineId, ...PERIOD, ownerId: 'secret-owner' }))).toBe('FORBIDDEN ownerId');
    // Amounts hidden: performance leaves them out, as before.
    await w.root.access.setPolicy(policy({ deal: { read: { deny: ['value'] } } }));
    const perf = await sue.reports.performance(PERIOD);
    expect(perf.owners.find((o) => o.ownerId === 'secret-owner')).toMatchObject({ dealsWon: 1, wonValue: [] });
    // The stage entry time hidden: a visit's times go with it.
    await w.root.access.setPolicy(policy({ deal: { read: { deny: ['stageEnteredAt'] } } }));
    const history = await sue.deals.stageHistory(d.id);
    expect(history.map((v) => ['enteredAt', 'exitedAt', 'durationMs'].filter((k) => k in v))).toEqual([[], []]);
    expect(history.map((v) => v.stageKey)).toEqual(['new', 'won']);
    expect(await verdict(sue.reports.funnel({ pipelineId: w.pipelineId, ...PERIOD }))).toMatch(/^FORBIDDEN .*enteredAt/);
  });

  it('task owner, due time and status hidden: workload and agenda refused, completed tasks show no task.completed', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy({ task: { read: { deny: ['ownerId', 'dueAt', 'status'] } } }));
    const sue = w.root.as({ userId: 'sue' });
    const t = await w.root.tasks.create({ subject: 'T', dueAt: '2026-01-20T08:00:00Z', ownerId: 'secret-owner' });
    await w.root.tasks.complete(t.id);
    expect(await verdict(sue.tasks.workload({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }))).toMatch(/^FORBIDDEN /);
    expect(await verdict(sue.tasks.agenda({ ownerId: 'secret-owner' }))).toMatch(/^FORBIDDEN .*ownerId/);
    expect(await verdict(sue.tasks.agenda())).toMatch(/^FORBIDDEN /);
    expect(await verdict(sue.tasks.list())).toBe('allowed');
    const types = (await sue.eventLog.list({ where: { op: 'eq', field: 'subjectId', value: t.id } })).items.map((e) => e.type);
    expect(types).toEqual(['task.created']);
    // Only the owner hidden: the agenda of everyone works, the owner's one is a filter on the owner.
    await w.root.access.setPolicy(policy({ task: { read: { deny: ['ownerId'] } } }));
    expect(await verdict(sue.tasks.agenda())).toBe('allowed');
    expect(await verdict(sue.tasks.agenda({ ownerId: 'secret-owner' }))).toBe('FORBIDDEN ownerId');
    expect(await verdict(sue.tasks.workload({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }))).toBe('FORBIDDEN ownerId');
  });

  it('a default order on a hidden field falls back to newest first; an explicit one is refused', async () => {
    const w = await open();
    const first = await w.root.tasks.create({ subject: 'Late', dueAt: '2026-05-01T08:00:00Z', ownerId: 'me' });
    const second = await w.root.tasks.create({ subject: 'Soon', dueAt: '2026-03-01T08:00:00Z', ownerId: 'me' });
    const older = await w.root.deals.create({ title: 'Older', pipelineId: w.pipelineId, ownerId: 'me' });
    const newer = await w.root.deals.create({ title: 'Newer', pipelineId: w.pipelineId, ownerId: 'me' });
    const a1 = await w.root.activities.log({ kind: 'note', body: 'Later', occurredAt: '2026-01-30T08:00:00Z', ownerId: 'me' });
    const a2 = await w.root.activities.log({ kind: 'note', body: 'Earlier', occurredAt: '2026-01-10T08:00:00Z', ownerId: 'me' });
    const sue = w.root.as({ userId: 'sue' });
    // Their own default orders where readable: tasks by due time, activities newest occurrence first, cards longest in stage first.
    await w.root.access.setPolicy(policy({ deal: { read: { deny: ['value'] } } }));
    expect((await sue.tasks.list()).items.map((t) => t.id)).toEqual([second.id, first.id]);
    expect((await sue.activities.list()).items.map((a) => a.id)).toEqual([a1.id, a2.id]);
    await w.root.access.setPolicy(
      policy({ task: { read: { deny: ['dueAt'] } }, activity: { read: { deny: ['occurredAt'] } }, deal: { read: { deny: ['stageEnteredAt'] } } }),
    );
    const tasks = await sue.tasks.list();
    expect(tasks.items.map((t) => t.id)).toEqual(newest(first, second));
    expect(tasks.items.every((t) => !('dueAt' in t))).toBe(true);
    expect((await sue.activities.list()).items.map((a) => a.id)).toEqual(newest(a1, a2));
    const board = await sue.deals.board(w.pipelineId);
    expect(board.columns[0]!.deals.map((d) => d.id)).toEqual(newest(older, newer));
    // Paging with the fallback order works, and an explicit order on the hidden field is refused.
    const page = await sue.tasks.list({ limit: 1 });
    expect((await sue.tasks.list({ limit: 1, cursor: page.nextCursor! })).items.map((t) => t.id)).toEqual(newest(first, second).slice(1));
    expect(await verdict(sue.tasks.list({ orderBy: [{ field: 'dueAt' }] }))).toBe('FORBIDDEN dueAt');
    expect(await verdict(sue.deals.board(w.pipelineId, { orderBy: [{ field: 'stageEnteredAt' }] }))).toBe('FORBIDDEN stageEnteredAt');
    // An observer of the list is fine too.
    const observed = sue.observe.tasks();
    const offObserved = observed.subscribe(() => undefined);
    await settle();
    expect(observed.getSnapshot()).toMatchObject({ status: 'success' });
    offObserved();
  });

  it('an action no role grants is refused as such, not as a record outside the scope', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy({}, { deal: { read: 'all', update: 'own' }, pipeline: { read: 'all' } }));
    const me = w.root.as({ userId: 'me' });
    const mine = await w.root.deals.create({ title: 'Mine', pipelineId: w.pipelineId, ownerId: 'me' });
    const refused = await me.deals.advance(mine.id).catch((e: unknown) => e);
    expect(isCrmError(refused, 'FORBIDDEN') && refused.message).toMatch(/no role grants it$/);
    expect(isCrmError(refused, 'FORBIDDEN') && refused.details).toMatchObject({ action: 'deal.advance', reason: 'no role grants it' });
    const theirs = await w.root.deals.create({ title: 'Theirs', pipelineId: w.pipelineId, ownerId: 'other' });
    const outside = await me.deals.update(theirs.id, { title: 'x' }).catch((e: unknown) => e);
    expect(isCrmError(outside, 'FORBIDDEN') && outside.details).toMatchObject({ reason: 'the record is outside the scope your roles grant' });
  });
}

import { isCrmError } from '../errors/crm-error.js';
import { toTimestamp } from '../domain/clock.js';
import type { AccessGuard, Principal } from '../crm/access-guard.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import type { RecordBase } from '../schema/record.js';
import { cancelRun, DISABLED } from './cancel-run.js';
import type { Filter } from '../query/query-spec.js';
import type { Deal } from '../schema/deal.js';
import type { Task } from '../schema/task.js';
import { MAX_RULES, type AutomationCause, type AutomationRule, type AutomationRun } from './automation-schema.js';
import type { CrmEvent } from '../events/event-map.js';
import type { StorageTx } from '../storage/storage-adapter.js';
import { executeRun, retryAt, runIdOf, type RunRequest, type RunSettings } from './execute-run.js';
import type { AutomationSettings } from './automation-settings.js';
import { addDuration, loadCalendar } from './run-actions.js';
import { conditionsHold, STAGE_EVENTS } from './match-trigger.js';
import { dueRuns } from './due-runs.js';
import { hiddenActivity, hiddenReads } from './rule-reads.js';
import { feedHead } from '../consumers/feed-read.js';

/** Candidates per rule and tick, and waiting runs per batch. */
const BATCH = 200;
const DAY = 86_400_000;

/** A time trigger that fires for one record: its key makes it fire once (per stage visit, per due time). */
interface Due {
  readonly key: string;
  readonly subject: { readonly type: string; readonly id: string };
  readonly facts: RunRequest['facts'];
}

/**
 * Whether an activity the service principal may read was logged on the deal after it entered its stage,
 * by anyone but the principal (the rules' own): read through its read filter, as its views read, so an
 * activity it may not read is no activity to its rules. One whose tested fields it may not read (or no
 * activity at all) reads none here: `hiddenReads` fails such a rule's run with `FORBIDDEN`.
 */
async function activeSince(op: Operation, deal: Deal, userId: string, guard: AccessGuard | undefined): Promise<boolean> {
  if (guard && hiddenActivity(guard)) return false;
  const scope = guard?.readFilter('activity');
  const filter: Filter = { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal.id }, { op: 'gt', field: 'occurredAt', value: deal.stageEnteredAt }, ...(scope ? [scope] : [])] };
  let after: string | undefined;
  do {
    const page = await op.query<{ id: string; ownerId?: string } & RecordBase>('activity', { filter, sort: [{ field: 'occurredAt' }, { field: 'id' }], limit: 50, ...(after ? { after } : {}) });
    if (page.rows.some((a) => a.ownerId !== userId)) return true;
    after = page.nextCursor;
  } while (after);
  return false;
}

/**
 * Whether a time rule fires now for a record as read: its key and facts; `'early'` while its time has
 * not come (the exact test, by the tenant's calendar); `undefined` when it does not fire in this stage
 * visit / for this due time (not in the stage, not open, an activity logged since it entered, past due).
 */
/** `guard`: the service principal's access rules (`undefined`: no policy, it reads everything). */
async function judge(op: Operation, rule: AutomationRule, row: Partial<Deal & Task> | undefined, userId: string, guard: AccessGuard | undefined): Promise<{ key: string; facts: RunRequest['facts'] } | 'early' | undefined> {
  const trigger = rule.trigger;
  const at = trigger.type === 'timeInStage' ? row?.stageEnteredAt : row?.dueAt;
  if (!row || !at || row.status !== 'open') return undefined;
  const ms = Date.parse(at);
  const key = `time:${row.id}:${at}`;
  if (trigger.type === 'timeInStage') {
    if (row.stageKey !== trigger.stage || (trigger.pipelineId && row.pipelineId !== trigger.pipelineId)) return undefined;
    if ((await addDuration(op, ms, trigger.for)) > op.nowMs) return 'early';
    // Activity = an activity logged on the deal since it entered (a call, e-mail, meeting, note), not by
    // the rules themselves; logging one moves lastActivityAt (field updates do too: it only pre-filters).
    if (trigger.withoutActivity && row.lastActivityAt && row.lastActivityAt > at && (await activeSince(op, row as Deal, userId, guard))) return undefined;
    return { key, facts: { type: 'timeInStage', stage: trigger.stage, at: op.now } };
  }
  if (trigger.type !== 'taskDue' || ms <= op.nowMs) return undefined;
  if ((await addDuration(op, ms, trigger.before, -1)) > op.nowMs) return 'early';
  return { key, facts: { type: 'taskDue', at: op.now, to: at } };
}

/**
 * Whether a time rule fires now for one record (`simulate`, and each run in its transaction): the deal
 * has been in the stage long enough (and, with `withoutActivity`, without activity), or the task is
 * within `before` of its due time.
 */
export async function timeFacts(op: Operation, rule: AutomationRule, id: string, principal: Principal): Promise<{ key: string; facts: RunRequest['facts'] } | undefined> {
  const verdict = await judge(op, rule, await op.get<Deal & Task>(rule.trigger.type === 'taskDue' ? 'task' : 'deal', id), principal.userId, await op.ctx.hooks.access?.guard(op.tx, principal));
  return verdict === 'early' ? undefined : verdict;
}

/**
 * The cause recorded on the event a time trigger counts from — the deal's latest stage move, the task's
 * creation or due-time change — so a time run that automation (or a host handler writing through
 * `causedBy`) led to continues that chain: the loop check and the depth limit see it, as for a feed run.
 * `undefined` when no automation caused that event, or it was pruned from the feed.
 */
export function startCause(rule: AutomationRule, id: string, tenantId: string): (tx: StorageTx) => Promise<AutomationCause | undefined> {
  const task = rule.trigger.type === 'taskDue';
  const filter: Filter = { op: 'and', filters: [{ op: 'eq', field: 'subjectId', value: id }, { op: 'in', field: 'type', values: task ? ['task.created', 'task.postponed', 'task.updated'] : [...STAGE_EVENTS] }] };
  return async (tx) => {
    let after: string | undefined;
    do {
      const page = await tx.query('event', tenantId, { filter, sort: [{ field: 'at', direction: 'desc' }, { field: 'position', direction: 'desc' }], limit: 50, ...(after ? { after } : {}) });
      // A task's update counts when it changed the due time.
      const start = (page.rows as unknown as (CrmEvent & { cause?: AutomationCause })[]).find((e) => e.type !== 'task.updated' || Object.hasOwn((e.data as { changes?: object }).changes ?? {}, 'dueAt'));
      if (start) return start.cause;
      after = page.nextCursor;
    } while (after);
    return undefined;
  };
}

/**
 * The request to run a time rule for one record: the run tests the trigger again in its transaction
 * (the record as it is now, the stored rule) and runs only for the same key — the same stage visit, the
 * same due time — so a sweep's stale candidate (moved on, done, postponed meanwhile) never runs.
 */
export function timeRequest(rule: AutomationRule, key: string, subject: Due['subject'], facts: RunRequest['facts'], principal: Principal, tenantId: string): RunRequest {
  return {
    rule, triggerKey: key, subject, facts, causeOf: startCause(rule, subject.id, tenantId),
    // An edited rule runs if its trigger holds for the record with the same key (`recheck`).
    rematch: () => facts,
    recheck: async (op, fresh) => {
      const now = await timeFacts(op, fresh, subject.id, principal);
      return now?.key === key ? now.facts : undefined;
    },
  };
}

/**
 * Where a rule's last complete sweep left off (per process): records whose time had come then and that
 * have not changed since were judged already, so a tick reads only the others — those whose time came
 * since (`from` on, by the index of `stageEnteredAt` / `dueAt`) and those written since `changedSince`.
 */
export interface Sweep {
  /** The rule version (edits, enabling), calendar and the principal's rights it holds for (a change starts over). */
  readonly key: string;
  readonly from: string;
  readonly changedSince: string;
  /** The feed head when it read: a write after it stamped before `changedSince` makes the next sweep read everything. */
  readonly head: number;
}

/**
 * How far back "written since the last sweep" reaches: a write transaction still open then whose event
 * position a later one's overtook (so the feed check below misses it) is found if it began at most this long before.
 */
const MARGIN = 10 * 60_000;

/**
 * The records a time rule fires for now, without those whose run is in the log already (done, or
 * failed with no attempt left): filtered page by page, so records that ran never crowd out those that
 * did not (a long-running rule has thousands of them), and at most `10 × BATCH` runs per tick. With the
 * rule's last sweep, only what may have changed since is read; `sweep` is where this one leaves off
 * (`undefined` when the cap cut it short).
 */
async function dueRecords(ctx: CrmContext, rule: AutomationRule, service: Principal, last: Sweep | undefined): Promise<{ due: Due[]; sweep?: Sweep }> {
  const trigger = rule.trigger;
  return runRead(ctx, async (op) => {
    const out: Due[] = [];
    const guard = await ctx.hooks.access?.guard(op.tx, service);
    // A rule reading what the service principal may not read is left to the run (FORBIDDEN, recorded once per key).
    const hidden = hiddenReads(rule, trigger.type === 'taskDue' ? 'task' : 'deal', guard).length > 0;
    // A deal judged active is not read again until it changes: a policy or directory change that hides (or
    // shows) activities to the principal changes the verdicts, so the sweep starts over then.
    const key = JSON.stringify([rule.version, await loadCalendar(op), hidden, trigger.type === 'timeInStage' && trigger.withoutActivity && guard?.readFilter('activity')]);
    let prior = last?.key === key ? last : undefined;
    // A write since the last sweep stamped before its overlap — this process's clock stepped back, another's
    // lags — would never be read by `updatedAt`: read everything again (records write events with their time).
    if (prior && (await op.query('event', { filter: { op: 'and', filters: [{ op: 'gt', field: 'position', value: prior.head }, { op: 'lt', field: 'at', value: prior.changedSince }] }, limit: 1 })).rows.length) prior = undefined;
    const head = await feedHead(op);
    const stage = trigger.type === 'timeInStage';
    const field = stage ? 'stageEnteredAt' : 'dueAt';
    let filters: Filter[];
    let upper: number;
    if (trigger.type === 'timeInStage') {
      // N business days span at least N calendar days: a superset by index, then the exact test.
      upper = op.nowMs - Math.max(0, trigger.for.unit === 'minutes' ? trigger.for.amount * 60_000 : trigger.for.unit === 'hours' ? trigger.for.amount * 3_600_000 : trigger.for.amount * DAY - DAY);
      filters = [{ op: 'eq', field: 'stageKey', value: trigger.stage }, { op: 'eq', field: 'status', value: 'open' }];
      if (trigger.pipelineId) filters.push({ op: 'eq', field: 'pipelineId', value: trigger.pipelineId });
    } else if (trigger.type === 'taskDue') {
      // Open tasks still before their due time, due within `before` — one more by the tenant's
      // calendar and a day's margin, so weekends, sparse working weeks and holiday closures stay inside.
      upper = (await addDuration(op, op.nowMs, { ...trigger.before, amount: trigger.before.amount + 1 })) + DAY;
      filters = [{ op: 'eq', field: 'status', value: 'open' }, { op: 'gt', field: 'dueAt', value: op.now }];
    } else return { due: out };
    filters.push({ op: 'lte', field, value: toTimestamp(upper) });
    // The first record whose time has not come yet: the next sweep reads from there on.
    let from = toTimestamp(upper);
    let complete = true;
    const scan = async (extra: Filter[]) => {
      let after: string | undefined;
      do {
        if (out.length >= 10 * BATCH) return void (complete = false);
        const page = await op.query<Deal & Task>(stage ? 'deal' : 'task', { filter: { op: 'and', filters: [...filters, ...extra] }, sort: [{ field }, { field: 'id' }], limit: BATCH, ...(after ? { after } : {}) });
        const candidates: Due[] = [];
        for (const row of page.rows) {
          const verdict = await judge(op, rule, row, service.userId, guard);
          // Records failing the rule's conditions are no candidates (the run tests them again): they never use up the per-tick cap.
          // Like an early one, such a record keeps the next sweep reading from it: its conditions may come to
          // hold without a write (a `trigger.at` condition), and only a write would bring it back.
          // A record the principal may not read is not judged by conditions on what it cannot see: the run skips it (`notFound`).
          if (verdict === 'early' || (verdict && !hidden && guard?.canRead(stage ? 'deal' : 'task', row) !== false && !conditionsHold(rule, row, verdict.facts))) from = row[field]! < from ? row[field]! : from;
          else if (verdict) candidates.push({ ...verdict, subject: { type: stage ? 'deal' : 'task', id: row.id } });
        }
        if (candidates.length) {
          const existing = await op.getMany<AutomationRun>('automationRun', candidates.map((d) => runIdOf(rule.id, d.key)));
          // A failed run is tried again by retryFailedRuns at its resumeAt (backoff), not on every tick.
          candidates.forEach((due, i) => existing[i] || out.push(due));
        }
        after = page.nextCursor;
      } while (after);
    };
    await scan(prior ? [{ op: 'or', filters: [{ op: 'gte', field, value: prior.from }, { op: 'gte', field: 'updatedAt', value: prior.changedSince }] }] : []);
    return { due: out, ...(complete ? { sweep: { key, from, changedSince: toTimestamp(op.nowMs - MARGIN), head } } : {}) };
  });
}

/**
 * One scheduler tick of automation: time triggers fire for the records whose time came (once per key:
 * the run log's unique row), and waiting runs whose `resumeAt` passed continue. Failed time runs are
 * tried again with backoff at their `resumeAt` (`retryFailedRuns`) until `maxAttempts`. Several processes may tick at once; each counts only the runs it performed.
 */
export async function tickAutomations(ctx: CrmContext, settings: RunSettings & Pick<AutomationSettings, 'maxAttempts' | 'backoff'>, sweeps = new Map<string, Sweep>()): Promise<{ runs: number }> {
  let runs = 0;
  const rules = await runRead(ctx, async (op) => (await op.query<AutomationRule>('automationRule', { filter: { op: 'eq', field: 'enabled', value: true }, limit: MAX_RULES })).rows);
  for (const rule of rules) {
    if (rule.trigger.type !== 'timeInStage' && rule.trigger.type !== 'taskDue') continue;
    const memo = `${ctx.tenantId}:${rule.id}`;
    const found = await dueRecords(ctx, rule, settings.principal, sweeps.get(memo));
    let sweep = found.sweep;
    for (const { key, subject, facts } of found.due) {
      const request = timeRequest(rule, key, subject, facts, settings.principal, ctx.tenantId);
      try {
        // Only runs this tick performed: another process's run of the same key is a duplicate.
        const result = await executeRun(ctx, settings, request);
        if (result.run && !result.duplicate) runs++;
      } catch (error) {
        if (isCrmError(error, 'CLOSED')) throw error;
        // A run neither done nor recorded as failed must be found again: the next sweep reads everything.
        await executeRun(ctx, settings, { ...request, failure: error, retryAt: retryAt(ctx, settings) }).catch((e: unknown) => {
          sweep = undefined;
          ctx.logger.error('crmkit: recording a failed automation run failed', { error: e });
        });
      }
    }
    if (sweep) sweeps.set(memo, sweep);
    else sweeps.delete(memo);
  }
  // Waits that ended: continue their runs (the row's version makes one process win). One pass by
  // cursor over the runs due when it began, so it ends; a continuation that fails is recorded as failed
  // (retried with backoff by retryFailedRuns from where it waited, then parked).
  for await (const run of dueRuns(ctx, 'waiting', BATCH)) {
    const rule = await runRead(ctx, (op) => op.get<AutomationRule>('automationRule', run.ruleId));
    if (!rule?.enabled) {
      // Disabling cancels waiting runs; one that started waiting as the rule was disabled is cancelled here.
      await runWrite(ctx, async (op) => {
        const current = await op.get<AutomationRun>('automationRun', run.id);
        if (current?.status === 'waiting') await cancelRun(op, current, rule ? DISABLED : 'cancelled: the rule no longer exists');
      }).catch((error: unknown) => ctx.logger.error('crmkit: cancelling an automation run failed; retried next tick', { error, runId: run.id }));
      continue;
    }
    const request: RunRequest = { rule, triggerKey: run.triggerKey, subject: { type: run.subjectType, id: run.subjectId }, facts: { type: 'resume' }, resume: run };
    try {
      if ((await executeRun(ctx, settings, request)).run) runs++;
    } catch (error) {
      if (isCrmError(error, 'CLOSED')) throw error;
      // An action's CONFLICT (a unique key, a concurrent edit) is the run's failure like any other; the
      // failure is written only while the run row is as read (a process that continued it first wins).
      await executeRun(ctx, settings, { ...request, failure: error, retryAt: retryAt(ctx, settings) }).catch((e: unknown) => ctx.logger.error('crmkit: recording a failed automation run failed', { error: e, runId: run.id }));
    }
  }
  return { runs };
}

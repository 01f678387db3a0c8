import { isCrmError } from '../errors/crm-error.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import type { RecordBase } from '../schema/record.js';
import { cancelRun, DISABLED } from './cancel-run.js';
import type { Filter } from '../query/query-spec.js';
import type { Deal } from '../schema/deal.js';
import type { Task } from '../schema/task.js';
import { MAX_RULES, type AutomationRule, type AutomationRun } from './automation-schema.js';
import { executeRun, retryAt, runIdOf, type RunRequest, type RunSettings } from './execute-run.js';
import type { AutomationSettings } from './automation-settings.js';
import { addDuration } from './run-actions.js';
import { conditionsHold } from './match-trigger.js';
import { dueRuns } from './due-runs.js';

/** Candidates per rule and tick, and waiting runs per batch. */
const BATCH = 200;
const DAY = 86_400_000;

/** A time trigger that fires for one record: its key makes it fire once (per stage visit, per due time). */
interface Due {
  readonly key: string;
  readonly subject: { readonly type: string; readonly id: string };
  readonly facts: RunRequest['facts'];
}

/** Whether an activity was logged on the deal after it entered its stage by anyone but the rules' service principal. */
async function activeSince(op: Operation, deal: Deal, principal: string | undefined): Promise<boolean> {
  const filter: Filter = { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal.id }, { op: 'gt', field: 'occurredAt', value: deal.stageEnteredAt }] };
  let after: string | undefined;
  do {
    const page = await op.query<{ id: string; ownerId?: string } & RecordBase>('activity', { filter, sort: [{ field: 'occurredAt' }, { field: 'id' }], limit: 50, ...(after ? { after } : {}) });
    if (page.rows.some((a) => a.ownerId !== principal)) return true;
    after = page.nextCursor;
  } while (after);
  return false;
}

/**
 * Whether a time rule fires now for one record (`simulate`): the deal has been in the stage long
 * enough (and, with `withoutActivity`, without activity), or the task is within `before` of its due time.
 */
export async function timeFacts(op: Operation, rule: AutomationRule, id: string, principal: string | undefined): Promise<{ key: string; facts: RunRequest['facts'] } | undefined> {
  const trigger = rule.trigger;
  if (trigger.type === 'timeInStage') {
    const deal = await op.get<Deal>('deal', id);
    if (!deal?.stageEnteredAt || deal.stageKey !== trigger.stage || deal.status !== 'open' || (trigger.pipelineId && deal.pipelineId !== trigger.pipelineId)) return undefined;
    if ((await addDuration(op, Date.parse(deal.stageEnteredAt), trigger.for)) > op.nowMs) return undefined;
    if (trigger.withoutActivity && (await activeSince(op, deal, principal))) return undefined;
    return { key: `time:${deal.id}:${deal.stageEnteredAt}`, facts: { type: 'timeInStage', stage: trigger.stage, at: op.now } };
  }
  if (trigger.type !== 'taskDue') return undefined;
  const task = await op.get<Task>('task', id);
  if (!task?.dueAt || task.status !== 'open' || Date.parse(task.dueAt) <= op.nowMs) return undefined;
  if ((await addDuration(op, Date.parse(task.dueAt), trigger.before, -1)) > op.nowMs) return undefined;
  return { key: `time:${task.id}:${task.dueAt}`, facts: { type: 'taskDue', at: op.now, to: task.dueAt } };
}

/**
 * The records a time rule fires for now, without those whose run is in the log already (done, or
 * failed with no attempt left): filtered page by page, so records that ran never crowd out those that
 * did not (a long-running rule has thousands of them), and at most `10 × BATCH` runs per tick.
 */
async function dueRecords(ctx: CrmContext, rule: AutomationRule, principal: string | undefined): Promise<Due[]> {
  const trigger = rule.trigger;
  return runRead(ctx, async (op) => {
    const out: Due[] = [];
    // Records failing the rule's conditions are no candidates (the run tests them again): they never use up the per-tick cap.
    const add = (to: Due[], row: object, due: Due) => {
      if (conditionsHold(rule, row, due.facts)) to.push(due);
    };
    const keep = async (page: Due[]) => {
      if (page.length === 0) return;
      const existing = (await op.getMany<AutomationRun>('automationRun', page.map((d) => runIdOf(rule.id, d.key)))) as (AutomationRun | undefined)[];
      page.forEach((due, i) => {
        const known = existing[i];
        // A failed run is tried again by retryFailedRuns at its resumeAt (backoff), not on every tick.
        if (!known) out.push(due);
      });
    };
    if (trigger.type === 'timeInStage') {
      // N business days span at least N calendar days: a superset by index, then the exact test.
      const bound = trigger.for.unit === 'minutes' ? trigger.for.amount * 60_000 : trigger.for.unit === 'hours' ? trigger.for.amount * 3_600_000 : trigger.for.amount * DAY - DAY;
      const filters: Filter[] = [
        { op: 'eq', field: 'stageKey', value: trigger.stage },
        { op: 'eq', field: 'status', value: 'open' },
        { op: 'lte', field: 'stageEnteredAt', value: new Date(op.nowMs - Math.max(0, bound)).toISOString() },
      ];
      if (trigger.pipelineId) filters.push({ op: 'eq', field: 'pipelineId', value: trigger.pipelineId });
      let after: string | undefined;
      do {
        const page = await op.query<Deal>('deal', { filter: { op: 'and', filters }, sort: [{ field: 'stageEnteredAt' }, { field: 'id' }], limit: BATCH, ...(after ? { after } : {}) });
        const candidates: Due[] = [];
        for (const deal of page.rows) {
          if (!deal.stageEnteredAt) continue;
          const entered = Date.parse(deal.stageEnteredAt);
          if ((await addDuration(op, entered, trigger.for)) > op.nowMs) continue;
          // Activity = an activity logged on the deal since it entered (a call, e-mail, meeting, note),
          // not by the rules themselves; field updates touch lastActivityAt too, so it only pre-filters.
          if (trigger.withoutActivity && deal.lastActivityAt && Date.parse(deal.lastActivityAt) > entered && (await activeSince(op, deal, principal))) continue;
          add(candidates, deal, { key: `time:${deal.id}:${deal.stageEnteredAt}`, subject: { type: 'deal', id: deal.id }, facts: { type: 'timeInStage', stage: trigger.stage, at: op.now } });
        }
        await keep(candidates);
        after = page.nextCursor;
      } while (after && out.length < 10 * BATCH);
    } else if (trigger.type === 'taskDue') {
      // Open tasks still before their due time, due within `before` (business days: a generous superset).
      const span = trigger.before.unit === 'minutes' ? trigger.before.amount * 60_000 : trigger.before.unit === 'hours' ? trigger.before.amount * 3_600_000 : trigger.before.amount * 3 * DAY + 14 * DAY;
      const filters: Filter[] = [
        { op: 'eq', field: 'status', value: 'open' },
        { op: 'gt', field: 'dueAt', value: op.now },
        { op: 'lte', field: 'dueAt', value: new Date(op.nowMs + span).toISOString() },
      ];
      let after: string | undefined;
      do {
        const page = await op.query<Task>('task', { filter: { op: 'and', filters }, sort: [{ field: 'dueAt' }, { field: 'id' }], limit: BATCH, ...(after ? { after } : {}) });
        const candidates: Due[] = [];
        for (const task of page.rows) {
          if (!task.dueAt || (await addDuration(op, Date.parse(task.dueAt), trigger.before, -1)) > op.nowMs) continue;
          add(candidates, task, { key: `time:${task.id}:${task.dueAt}`, subject: { type: 'task', id: task.id }, facts: { type: 'taskDue', at: op.now, to: task.dueAt } });
        }
        await keep(candidates);
        after = page.nextCursor;
      } while (after && out.length < 10 * BATCH);
    }
    return out;
  });
}

/**
 * One scheduler tick of automation: time triggers fire for the records whose time came (once per key:
 * the run log's unique row), and waiting runs whose `resumeAt` passed continue. Failed time runs are
 * tried again with backoff at their `resumeAt` (`retryFailedRuns`) until `maxAttempts`. Several processes may tick at once; each counts only the runs it performed.
 */
export async function tickAutomations(ctx: CrmContext, settings: RunSettings & Pick<AutomationSettings, 'maxAttempts' | 'backoff'>): Promise<{ runs: number }> {
  let runs = 0;
  const rules = await runRead(ctx, async (op) => (await op.query<AutomationRule>('automationRule', { filter: { op: 'eq', field: 'enabled', value: true }, limit: MAX_RULES })).rows);
  for (const rule of rules) {
    if (rule.trigger.type !== 'timeInStage' && rule.trigger.type !== 'taskDue') continue;
    for (const { key, subject, facts } of await dueRecords(ctx, rule, settings.principal.userId)) {
      const request: RunRequest = { rule, triggerKey: key, subject, facts, rematch: (fresh) => (fresh.trigger.type === rule.trigger.type ? facts : undefined) };
      try {
        // Only runs this tick performed: another process's run of the same key is a duplicate.
        const result = await executeRun(ctx, settings, request);
        if (result.run && !result.duplicate) runs++;
      } catch (error) {
        if (isCrmError(error, 'CLOSED')) throw error;
        await executeRun(ctx, settings, { ...request, failure: error, retryAt: retryAt(ctx, settings) }).catch((e: unknown) => ctx.logger.error('crmkit: recording a failed automation run failed', { error: e }));
      }
    }
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
      if (!isCrmError(error, 'CONFLICT')) await executeRun(ctx, settings, { ...request, failure: error, retryAt: retryAt(ctx, settings) }).catch((e: unknown) => ctx.logger.error('crmkit: recording a failed automation run failed', { error: e, runId: run.id }));
    }
  }
  return { runs };
}

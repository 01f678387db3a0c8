import { isCrmError } from '../errors/crm-error.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { without } from '../domain/records.js';
import type { CrmEvent } from '../events/event-map.js';
import type { EventHandler } from '../consumers/consumer-options.js';
import { feedHead } from '../consumers/feed-read.js';
import { MAX_RULES, type AutomationCause, type AutomationRule, type AutomationRun } from './automation-schema.js';
import type { AutomationSettings } from './automation-settings.js';
import { executeRun, retryAt, type RunRequest, type RunSettings } from './execute-run.js';
import { hiddenReads } from './rule-reads.js';
import { timeRequest } from './time-triggers.js';
import { dueRuns } from './due-runs.js';
import { conditionsHold, matchEvent, triggerEventTypes } from './match-trigger.js';

/** Failed runs retried per sweep page. */
const PAGE = 200;

/**
 * The enabled rules that start on feed events. Kept until the configuration revision moves (any
 * process) — checked once per feed page: an event is matched against rules loaded after it was
 * written, so a rule defined before an event (`since` below its position) is never missed.
 */
export class RuleCache {
  private rules: readonly AutomationRule[] | undefined;
  private head = -1;

  constructor(private readonly ctx: CrmContext) {
    ctx.revision.register(this);
  }

  invalidate(): void {
    this.rules = undefined;
  }

  /** The enabled feed rules, fresh for an event at `position`. */
  async enabled(position: number): Promise<readonly AutomationRule[]> {
    if (this.rules && position <= this.head) return this.rules;
    return runRead(this.ctx, async (op) => {
      await this.ctx.revision.ensureFresh(op.tx);
      const head = await feedHead(op);
      if (!this.rules) {
        const { rows } = await op.query<AutomationRule>('automationRule', { filter: { op: 'eq', field: 'enabled', value: true }, sort: [{ field: 'createdAt' }, { field: 'id' }], limit: MAX_RULES });
        this.rules = rows.filter((r) => triggerEventTypes(r.trigger));
      }
      this.head = head;
      return this.rules;
    });
  }
}

/** Retry settings of runs. */
export type FeedRunSettings = RunSettings & Pick<AutomationSettings, 'maxAttempts' | 'backoff'>;

/**
 * Runs one rule for one event; a failure is recorded on the run (retried by `retryFailedRuns`, then
 * parked) instead of thrown, so one failing rule never holds up the others. Throws only when even the
 * failure cannot be written (the consumer then redelivers the event; rules that ran are not run again).
 */
async function runOnce(ctx: CrmContext, settings: FeedRunSettings, request: RunRequest): Promise<boolean> {
  try {
    return (await executeRun(ctx, settings, request)).run !== undefined;
  } catch (error) {
    if (isCrmError(error, 'CLOSED')) throw error;
    await executeRun(ctx, settings, { ...request, failure: error, retryAt: retryAt(ctx, settings) });
    return true;
  }
}

/** The request to run `rule` for `event` (matched already). */
function requestOf(rule: AutomationRule, event: CrmEvent, facts: NonNullable<ReturnType<typeof matchEvent>>): RunRequest {
  const cause = (event as { cause?: AutomationCause }).cause;
  return {
    rule, triggerKey: event.id, subject: { type: event.subjectType, id: event.subjectId }, facts, event,
    ...(cause ? { cause } : {}),
    // An edited rule (a stale cache ran the old one) runs only for events after its edit, as a fresh cache would.
    rematch: (fresh: AutomationRule) => ((event.position ?? 0) > fresh.since ? matchEvent(fresh.trigger, event) : undefined),
  };
}

/**
 * The handler of the rules' one feed consumer: each event is read once and matched against every
 * enabled rule defined before it; each match runs in its own transaction with its run-log row (unique
 * per (rule, event)), so a redelivery after a crash or a second process runs nothing twice.
 */
export function feedHandler(ctx: CrmContext, settings: FeedRunSettings, cache: RuleCache): EventHandler {
  return async (event: CrmEvent) => {
    const rules = await cache.enabled(event.position ?? Number.MAX_SAFE_INTEGER);
    let record: object | undefined | null = null;
    let hidden: (rule: AutomationRule) => boolean = () => false;
    for (const rule of rules) {
      if ((event.position ?? 0) <= rule.since) continue;
      const facts = matchEvent(rule.trigger, event);
      if (!facts) continue;
      // Conditions first on one read of the record shared by the rules (most events do not qualify):
      // no write transaction for them. The run's transaction tests them again on the state it reads.
      if (rule.conditions.length || ('pipelineId' in rule.trigger && rule.trigger.pipelineId)) {
        // The current record, also for *.created events: their snapshot may be stale (conditions test the record as it is).
        // A record the service principal may not read is not judged on what it cannot see: the run skips it (`notFound`).
        if (record === null) {
          [record, hidden] = await runRead(ctx, async (op) => {
            const guard = await ctx.hooks.access?.guard(op.tx, settings.principal);
            const row = await op.get(event.subjectType, event.subjectId);
            return [row && guard?.canRead(event.subjectType, row) === false ? undefined : row, (r: AutomationRule) => hiddenReads(r, event.subjectType, guard).length > 0] as const;
          });
        }
        // A rule reading what the service principal may not read goes to the run, which records FORBIDDEN (never filtered silently).
        if (record && !conditionsHold(rule, record, facts) && !hidden(rule)) continue;
      }
      // A run that wrote may have changed the record: the next rule's conditions read it again.
      if (await runOnce(ctx, settings, requestOf(rule, event, facts))) record = null;
    }
  };
}

/** The request to run a manual run again (a replay), or `undefined` when the rule no longer is a manual rule for its record's type. */
function manualRequest(rule: AutomationRule, run: AutomationRun): RunRequest | undefined {
  const fits = (r: AutomationRule) => r.trigger.type === 'manual' && r.trigger.entity === run.subjectType;
  if (!fits(rule)) return undefined;
  return { rule, triggerKey: run.triggerKey, subject: { type: run.subjectType, id: run.subjectId }, facts: { type: 'manual' }, rematch: (fresh) => (fits(fresh) ? { type: 'manual' } : undefined) };
}

/** Clears a failed run's retry time: it stays failed (parked) until replayed. */
async function park(ctx: CrmContext, run: AutomationRun): Promise<void> {
  await runWrite(ctx, async (op) => {
    const current = await op.get<AutomationRun>('automationRun', run.id);
    if (current?.status === 'failed' && current.resumeAt) await op.update('automationRun', current, { ...without(current, 'resumeAt'), version: current.version + 1, updatedAt: op.now } as AutomationRun);
  });
}

/**
 * Tries again the failed runs of events whose retry time came (`crm.automations.tick()` and `drain()`
 * call it): each run again reads the rule and the record. A run of a rule that is off now, or of an
 * event pruned from the feed, is parked. Several processes may sweep at once (the run row's version
 * makes one win).
 *
 * @returns How many runs were tried.
 */
export async function retryFailedRuns(ctx: CrmContext, settings: FeedRunSettings): Promise<number> {
  let tried = 0;
  // One pass by cursor over the runs due when the sweep began: each is tried at most once, so it ends.
  for await (const failed of dueRuns(ctx, 'failed', PAGE)) {
    const [rule, event] = await runRead(ctx, async (op) => [await op.get<AutomationRule>('automationRule', failed.ruleId), failed.eventId ? (await op.getMany<CrmEvent & { tenantId: string; version: number; createdAt: string; updatedAt: string }>('event', [failed.eventId]))[0] : undefined] as const);
    const facts = rule?.enabled && event ? matchEvent(rule.trigger, event) : undefined;
    // A manual run has no event: it runs again for its record while the rule is still a manual rule for that type.
    const manual = rule?.enabled && !failed.eventId && failed.triggerKey.startsWith('manual:') ? manualRequest(rule, failed) : undefined;
    // A time run runs again while its record still qualifies in the same stage visit / for the same due time.
    const time = rule?.enabled && failed.triggerKey.startsWith('time:');
    try {
      // A failed continuation (a wait ended, then an action failed) continues after its wait.
      if (rule?.enabled && failed.plan && failed.resumeFrom !== undefined) await runOnce(ctx, settings, { rule, triggerKey: failed.triggerKey, subject: { type: failed.subjectType, id: failed.subjectId }, facts: { type: 'resume' }, resume: failed });
      else if (manual) await runOnce(ctx, settings, manual);
      // Its transaction tests the trigger again: a record no longer due for the same key closes it (`triggerNoLongerHolds`).
      else if (time && rule) await runOnce(ctx, settings, timeRequest(rule, failed.triggerKey, { type: failed.subjectType, id: failed.subjectId }, { type: rule.trigger.type }, settings.principal, ctx.tenantId));
      else if (!rule || !event || !facts) await park(ctx, failed);
      else await runOnce(ctx, settings, requestOf(rule, event, facts));
      tried++;
    } catch (error) {
      if (isCrmError(error, 'CLOSED')) throw error;
      if (!isCrmError(error, 'CONFLICT')) ctx.logger.error('crmkit: retrying an automation run failed; tried again later', { error, runId: failed.id });
    }
  }
  return tried;
}

/**
 * Sweeps due retries in the background while `crm.automations.start()` runs (every `pollMs`), so a
 * host that runs rules without a scheduler still sees failed runs tried again and parked.
 */
export class RetryLoop {
  private cancel: (() => void) | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: CrmContext,
    private readonly settings: FeedRunSettings,
    private readonly everyMs: number,
  ) {}

  start(): void {
    if (this.cancel) return;
    const schedule = () => {
      this.cancel = this.ctx.clock.setTimer(() => {
        this.running = retryFailedRuns(this.ctx, this.settings)
          .catch((error: unknown) => {
            if (!isCrmError(error, 'CLOSED')) this.ctx.logger.error('crmkit: retrying automation runs failed; tried again later', { error });
          })
          .finally(() => {
            if (this.cancel) schedule();
          });
      }, this.everyMs);
    };
    schedule();
  }

  async stop(): Promise<void> {
    const cancel = this.cancel;
    this.cancel = undefined;
    cancel?.();
    await this.running;
  }
}

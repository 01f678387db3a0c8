import { CrmError, isCrmError } from '../errors/crm-error.js';
import { checkedTimestamp, toTimestamp } from '../domain/clock.js';
import type { Principal } from '../crm/access-guard.js';
import type { CrmContext } from '../crm/context.js';
import type { Crm } from '../crm/crm.js';
import { Operation } from '../crm/operation.js';
import { retryRaces } from '../crm/retry-concurrent.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import type { StorageTx } from '../storage/storage-adapter.js';
import type { AutomationCause, AutomationRule, AutomationRun, ActionOutcome, RunStatus } from './automation-schema.js';
import { conditionsHold, matchEvent, type TriggerFacts } from './match-trigger.js';
import { forbiddenReads, hiddenReads } from './rule-reads.js';
import { addDuration, runAction, runRefs, serviceOf } from './run-actions.js';
import { HeldEvents, scopedStorage } from './scoped-storage.js';
import { backoffDelay } from '../consumers/consumer-options.js';
import type { AutomationSettings } from './automation-settings.js';

/** 32-bit FNV-1a with a seed. */
function fnv(text: string, seed: number): string {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36).padStart(7, '0');
}

/**
 * Tells whether a rule reads what the service principal may not read (`hiddenReads`: its watched
 * field or stage, a condition's field or trigger data): the policy changed since define. Runs fail
 * such a rule typed (`FORBIDDEN`, `raise`); the pre-filters (feed, time sweeps) then leave its records
 * to the run instead of judging them on the raw record.
 */
export async function readsHidden(ctx: CrmContext, tx: StorageTx, principal: Principal, entity: string): Promise<(rule: AutomationRule, raise?: boolean) => boolean> {
  const guard = await ctx.hooks.access?.guard(tx, principal);
  return (rule, raise) => {
    const hidden = hiddenReads(rule, entity, guard);
    if (hidden.length && raise) throw forbiddenReads(rule, guard!, hidden);
    return hidden.length > 0;
  };
}

/** The run-log id of (rule, trigger key): the unique key that makes a rule run once per trigger. */
export function runIdOf(ruleId: string, triggerKey: string): string {
  const text = `${ruleId}\u0000${triggerKey}`;
  return `run_${fnv(text, 0x811c9dc5)}${fnv(text, 0x050c5d1f)}`;
}

/** How a feature instance runs rules. */
export interface RunSettings {
  readonly principal: Principal;
  /** Runs caused by runs: at most this deep (1 = automation may not trigger automation). */
  readonly maxDepth: number;
}

/** When a failed run is tried again: backoff after `attempts` failures, none once `maxAttempts` failed (parked). */
export function retryAt(ctx: CrmContext, settings: Pick<AutomationSettings, 'maxAttempts' | 'backoff'>) {
  return (attempts: number) => (attempts >= settings.maxAttempts ? undefined : toTimestamp(ctx.clock.now() + backoffDelay(settings.backoff, attempts, ctx.random.next())));
}

/** One trigger of one rule. */
export interface RunRequest {
  readonly rule: AutomationRule;
  readonly triggerKey: string;
  readonly subject: { readonly type: string; readonly id: string };
  readonly facts: TriggerFacts;
  /** The triggering event (feed runs, `simulate`): the run's facts come from it as the service principal sees it. */
  readonly event?: CrmEvent;
  /** The automation run that recorded the triggering event, if one did. */
  readonly cause?: AutomationCause;
  /** Reads the cause in the run's transaction when there is no `cause` (time runs: see `startCause`). */
  readonly causeOf?: (tx: StorageTx) => Promise<AutomationCause | undefined>;
  /** Continue this waiting run (a `wait` ended). */
  readonly resume?: AutomationRun;
  /** Write nothing: the transaction is rolled back after the actions ran (`simulate`). */
  readonly dryRun?: boolean;
  /** Record the run as failed with this error instead of running it (its last attempt failed). */
  readonly failure?: unknown;
  /** Attempts made (recorded with a failure). */
  readonly attempts?: number;
  /** With a failure: when to try again after this many attempts (ISO time; `undefined`: it is parked). */
  readonly retryAt?: (attempts: number) => string | undefined;
  /**
   * Re-reads the stored rule in the run's transaction: a disabled or removed rule does not run, and
   * an edited one runs at its new revision if its trigger still matches (`rematch`), so a process
   * with a stale rule cache never runs an old revision.
   */
  readonly rematch?: (rule: AutomationRule) => TriggerFacts | undefined;
  /**
   * Tests the trigger again in the run's transaction on the record as it is now (time triggers: a
   * sweep's candidate may have left its stage, or its task been done or postponed, since it was read).
   * `undefined`: it no longer holds — the run writes nothing (a retried run is closed `skipped`).
   */
  readonly recheck?: (op: Operation, rule: AutomationRule) => Promise<TriggerFacts | undefined>;
}

/** What a run did: the run-log entry written (`undefined`: conditions did not hold, or it ran before). */
export interface RunResult {
  readonly run?: AutomationRun;
  /** The run existed already (another process or an earlier attempt ran it). */
  readonly duplicate?: boolean;
  /** Events the run's actions recorded (for `simulate`). */
  readonly events: readonly CrmEvent[];
}

class DryRun extends Error {
  constructor(readonly result: RunResult) {
    super('dry run');
  }
}

/** The error as the run log keeps it. */
export function describeError(error: unknown): NonNullable<AutomationRun['error']> {
  if (isCrmError(error)) return { code: error.code, message: error.message, details: JSON.parse(JSON.stringify(error.details ?? null)) as unknown };
  return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * Runs one rule for one trigger in one storage transaction: the run-log row (id `runIdOf(rule,
 * key)`, unique), the actions (through the service principal's view, bound to the transaction) and
 * the `automation.ran` event commit together or not at all. A second attempt — another process, a
 * redelivery after a crash — finds the row and does nothing, so each (rule, trigger) runs once.
 */
export async function executeRun(ctx: CrmContext, settings: RunSettings, request: RunRequest): Promise<RunResult> {
  const { subject } = request;
  let rule = request.rule;
  let facts = request.facts;
  const runId = runIdOf(rule.id, request.triggerKey);
  let held: HeldEvents | undefined;
  let stamped: Map<string, CrmEvent> | undefined;
  let result: RunResult;
  try {
    // An action's write that met a concurrent transaction (`markRace`) runs the whole run again: its row,
    // actions and event commit together, so they are re-run together, from a fresh read of everything.
    result = await retryRaces(ctx, () => ctx.storage.transaction('rw', async (rootTx) => {
      rule = request.rule;
      facts = request.facts;
      const [existing] = (await rootTx.getMany('automationRun', ctx.tenantId, [runId])) as unknown as (AutomationRun | undefined)[];
      if (existing && existing.triggerKey !== request.triggerKey) throw new CrmError('STORAGE', `automations: run id collision for ${runId}`, { adapter: ctx.storage.name, operation: 'automations.run' } as never);
      if (request.resume) {
        if (!existing || existing.status !== request.resume.status || existing.version !== request.resume.version) return { duplicate: true, events: [] };
      } else if (existing && existing.status !== 'failed') return { run: existing, duplicate: true, events: [] };
      // A retried failed run that no longer runs is closed (skipped), never left due: sweeps must make progress.
      const retried = existing?.status === 'failed';
      let closed: string | undefined;
      if (request.rematch && request.failure === undefined) {
        const [stored] = (await rootTx.getMany('automationRule', ctx.tenantId, [rule.id])) as unknown as (AutomationRule | undefined)[];
        const again = stored?.enabled ? (stored.revision === rule.revision ? facts : request.rematch(stored)) : undefined;
        if (!again) {
          if (!retried) return { events: [] };
          closed = 'ruleChanged';
        } else {
          rule = stored!;
          facts = again;
        }
      }

      const caused = request.resume ? undefined : (request.cause ?? (await request.causeOf?.(rootTx)));
      const depth = request.resume ? request.resume.depth : caused ? caused.depth + 1 : 0;
      const chain = caused?.chain ?? [];
      const cause: AutomationCause = { runId, ruleId: rule.id, depth, chain: [...chain, rule.id] };
      stamped = new Map();
      held = new HeldEvents(ctx.logger);
      const { storage, settle } = scopedStorage(ctx.storage, rootTx, cause, stamped);
      const tx = await storage.transaction('rw', async (bound: StorageTx) => bound);
      const scoped: CrmContext = { ...ctx, storage, bus: held, bound: true };
      const op = new Operation(scoped, tx);
      if (request.recheck && !closed && request.failure === undefined) {
        const again = await request.recheck(op, rule);
        if (again) facts = again;
        else if (!retried) return { events: [] };
        else closed = 'triggerNoLongerHolds';
      }
      const crm = ctx.scope!({ storage, bus: held, bound: true }, settings.principal) as Crm & Readonly<Record<string, unknown>>;
      const plan = request.resume?.plan ?? rule.actions;
      const outcomes: ActionOutcome[] = [...(request.resume?.actions ?? [])];
      let status: RunStatus = 'done';
      let reason: string | undefined;
      let error: AutomationRun['error'];
      let resumeAt: string | undefined;
      let resumeFrom: number | undefined;
      // Unset until the run reads its subject (a failed or closed run never does).
      let record: Record<string, unknown> | undefined;

      if (request.failure !== undefined) {
        status = 'failed';
        error = describeError(request.failure);
      } else if (closed) {
        status = 'skipped';
        reason = closed;
      } else if (chain.includes(rule.id)) {
        status = 'skipped';
        reason = 'loop: the rule caused the triggering event';
      } else if (depth > settings.maxDepth) {
        status = 'skipped';
        reason = `depthLimit: ${depth} automation runs deep (limit ${settings.maxDepth})`;
      } else {
        // The event as the service principal sees it (its access view's projection; `undefined`: hidden from it).
        const guard = request.event && (await ctx.hooks.access?.guard(rootTx, settings.principal));
        const seen = guard ? (await ctx.hooks.access!.judgeEvents(guard, [request.event!], (entity, ids) => op.getMany(entity, ids)))[0] : request.event;
        try {
          record = await serviceOf(crm, subject.type).get(subject.id);
        } catch (caught) {
          if (!isCrmError(caught, 'NOT_FOUND')) throw caught;
          // A removed record's rule reads it as its event carries it.
          const gone = seen?.type === `${subject.type}.removed` ? (seen.data as unknown as Record<string, Record<string, unknown> | undefined>)[subject.type] : undefined;
          record = gone ?? {};
          if (!gone) {
            status = 'skipped';
            reason = 'notFound: the record does not exist or the service principal may not read it';
          }
        }
        if (status === 'done' && !request.resume) {
          // The policy changed since define: a rule reading what the service principal cannot read fails typed (FORBIDDEN), never silently.
          (await readsHidden(ctx, rootTx, settings.principal, subject.type))(rule, true);
          // Conditions see the trigger's data as the service principal does (as they see the record).
          if (guard) facts = (seen && matchEvent(rule.trigger, seen)) ?? { type: facts.type, eventId: facts.eventId, at: facts.at, data: seen?.data ?? {} };
        }
        if (status === 'done' && !request.resume && !conditionsHold(rule, record, facts)) {
          if (!retried) return { events: [] };
          status = 'skipped';
          reason = 'conditionsNoLongerHold';
        }
        if (status === 'done' && !request.resume && rule.rateLimit) {
          // The rule's counter is held until commit: concurrent runs of the rule (other connections,
          // other processes) wait here, so each counts the runs committed before it, never "4 of 5" twice.
          await rootTx.nextSequence(`automationRate:${rule.id}`, ctx.tenantId, 1);
          // Each run counts once, when it started (`ranAt`, kept by its continuations), whatever became of
          // it since (a failed continuation, cancelled): what it did is done. A retried or replayed run starts
          // at its successful attempt. Rows written since the window began are a superset.
          const since = toTimestamp(op.nowMs - rule.rateLimit.perMinutes * 60_000);
          let n = 0;
          let after: string | undefined;
          do {
            const page = await op.query<AutomationRun>('automationRun', { filter: { op: 'and', filters: [{ op: 'eq', field: 'ruleId', value: rule.id }, { op: 'gte', field: 'updatedAt', value: since }] }, sort: [{ field: 'updatedAt' }, { field: 'id' }], limit: 200, ...(after ? { after } : {}) });
            n += page.rows.filter((r) => (r.ranAt ?? (r.status === 'done' || r.status === 'waiting' ? r.updatedAt : '')) >= since).length;
            after = page.nextCursor;
          } while (after && n < rule.rateLimit.max);
          if (n >= rule.rateLimit.max) {
            status = 'skipped';
            reason = `rateLimited: ${rule.rateLimit.max} runs per ${rule.rateLimit.perMinutes} min`;
          }
        }
        if (status === 'done') {
          for (let i = request.resume?.resumeFrom ?? 0; i < plan.length; i++) {
            const action = plan[i]!;
            if (action.type === 'wait') {
              status = 'waiting';
              // A wait past 9999-12-31 cannot be stored: the run fails (retried, then parked) naming the wait.
              resumeAt = checkedTimestamp(await addDuration(op, op.nowMs, action.for), 'automations', 'actions', i, 'for');
              resumeFrom = i + 1;
              outcomes.push({ type: 'wait', detail: resumeAt });
              break;
            }
            outcomes.push(await runAction({ crm, op, subject, ruleId: rule.id, runId }, action));
          }
        }
      }

      const attempts = request.failure !== undefined ? (request.attempts ?? (existing?.attempts ?? 0) + 1) : undefined;
      const retryAt = attempts !== undefined ? request.retryAt?.(attempts) : undefined;
      const base = request.resume ?? existing;
      const eventId = request.resume?.eventId ?? facts.eventId;
      const ranAt = request.resume ? request.resume.ranAt : status === 'done' || status === 'waiting' ? op.now : undefined;
      const run: AutomationRun = {
        id: runId, tenantId: ctx.tenantId, version: (base?.version ?? 0) + 1, createdAt: base?.createdAt ?? op.now, updatedAt: op.now,
        ruleId: rule.id, ruleName: rule.name, revision: request.resume?.revision ?? rule.revision, triggerKey: request.triggerKey, triggerType: rule.trigger.type,
        // A continuation keeps the event that started the run (and when it started: rate limits count that).
        ...(eventId ? { eventId } : {}),
        ...(ranAt ? { ranAt } : {}),
        ...(attempts !== undefined ? { attempts } : {}),
        ...(retryAt ? { resumeAt: retryAt } : {}),
        status, subjectType: subject.type, subjectId: subject.id, depth, chain: request.resume?.chain ?? cause.chain, actions: outcomes,
        ...(reason ? { reason } : {}), ...(error ? { error } : {}),
        ...(resumeAt ? { resumeAt, resumeFrom, plan } : {}),
        // A failed continuation keeps its place: its retry continues after the wait.
        ...(status === 'failed' && request.resume ? { resumeFrom: request.resume.resumeFrom, plan: request.resume.plan } : {}),
      };
      if (base) await op.update('automationRun', base, run);
      else await op.insert('automationRun', run);
      op.record('automation.ran' as CrmEventName, subject, {
        runId, ruleId: rule.id, ruleName: rule.name, revision: run.revision, status, triggerKey: request.triggerKey, triggerType: rule.trigger.type, depth, actions: outcomes,
        ...(reason ? { reason } : {}), ...(error ? { error } : {}), ...(resumeAt ? { resumeAt } : {}),
      } as never, await runRefs(op, rule.id, subject, record));
      await op.flushEvents();
      // The feed's counter last, after the run-log row (see `scopedStorage`): the order every writer keeps.
      await settle();
      const events = [...held.held, ...op.events].map((e) => stamped!.get(e.id) ?? e);
      if (request.dryRun) throw new DryRun({ run, events });
      return { run, events };
    }));
  } catch (error) {
    if (error instanceof DryRun) return error.result;
    // Another process inserted the same run row first: it ran (or is running) this trigger. A
    // continuation (or its failure) whose waiting row changed meanwhile — another process continued it,
    // `disable` cancelled it — lost to that writer: its actions rolled back, as a duplicate's.
    if (isCrmError(error, 'CONFLICT')) {
      const [row] = (await ctx.storage.transaction('r', (tx) => tx.getMany('automationRun', ctx.tenantId, [runId]))) as unknown as (AutomationRun | undefined)[];
      if (request.resume && row?.version !== request.resume.version) return { duplicate: true, events: [] };
      if (!request.resume && row && row.status !== 'failed') return { run: row, duplicate: true, events: [] };
    }
    throw error;
  }
  if (result.events.length) ctx.bus.emitAll(result.events, undefined);
  return result;
}

import { isCrmError } from '../errors/crm-error.js';
import type { CrmEvent } from '../events/event-map.js';
import { toTimestamp, type CancelTimer } from '../domain/clock.js';
import { rottingStartsAt } from '../domain/funnel/rotting.js';
import { compact, reviseRecord } from '../domain/records.js';
import { nextNoticeAt, pendingNotices, type NoticeSettings } from '../domain/tasks/notices.js';
import { nextOccurrenceDraft } from '../domain/tasks/next-occurrence.js';
import type { CrmEventName } from '../events/event-map.js';
import type { Deal } from '../schema/deal.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { Task } from '../schema/task.js';
import type { RecordBase } from '../schema/record.js';
import type { CrmContext } from '../crm/context.js';
import { dealRefs } from '../deals/deal-refs.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { isConcurrent } from '../crm/retry-concurrent.js';
import { rottingFilter } from '../funnel/rotting.js';
import { buildTasks, insertTasks, taskRefs, withNextStep } from '../tasks/task-writer.js';
import { noticeId } from './notice-id.js';
import { DeferEvent, resolveConsumer } from '../consumers/consumer-options.js';
import { ensureConsumer } from '../consumers/consumer-rows.js';
import { handOver, handoverStart } from './notice-handover.js';
import { ConsumerRunner, replayChange } from '../consumers/consumer-runner.js';
import { resyncs } from '../storage/storage-adapter.js';
import { dispatch, handles } from './notice-dispatch.js';

/**
 * A recorded notice, keyed by its idempotency key so that it is recorded exactly once. Its event goes
 * to handlers through the change feed (`status` was `pending`/`delivered` before schema version 6).
 */
export interface NotificationRecord extends RecordBase {
  readonly key: string;
  readonly kind: 'reminder' | 'due' | 'overdue' | 'rotting';
  readonly status: 'recorded' | 'pending' | 'delivered';
  /** When the notice was due. */
  readonly at: string;
  readonly subjectId: string;
  /** The event-log entry that carries it. */
  readonly eventId: string;
  readonly deliveredAt?: string;
}

/** What one `tick()` did. */
export interface TickReport {
  readonly reminders: number;
  readonly due: number;
  readonly overdue: number;
  /** Next occurrences of recurring tasks created because their time passed. */
  readonly recurrences: number;
  readonly rotting: number;
  /**
   * Notices this tick handed to this process's handlers (of the types it has handlers for): recorded
   * now or earlier, here or by another process (one that died before delivering, once its lease expired).
   */
  readonly delivered: number;
  /** Batches retried because another process or user changed the same records (never thrown). */
  readonly retried: number;
  /** Notice records deleted because they were older than `noticeRetentionDays`. */
  readonly prunedNotices: number;
  /** Automation runs started or continued by time triggers and ended waits (with the automations feature). */
  readonly automations: number;
}

/** Options of the scheduler feature. */
export interface SchedulerOptions {
  /** A timed task becomes overdue this long after it is due (default 60). All-day tasks: at the end of their day. */
  readonly overdueAfterMinutes?: number;
  /** Records handled per transaction (default 100). */
  readonly batchSize?: number;
  /**
   * Longest sleep of `start()` between wake-ups (ms), a safety net for changes made elsewhere (default 1 hour):
   * also how long a notice replayed by another process may wait when the storage does not report that
   * process's commits (PostgreSQL `externalChanges: 'poll'` or `false`, SQLite `changePollMs: 0`).
   */
  readonly maxSleepMs?: number;
  /**
   * How long a process holds notices it is delivering (default 30 s): if it dies, another process
   * delivers them once the lease expired.
   */
  readonly leaseMs?: number;
  /**
   * Days a recorded notice's row (`notification`, the idempotency key that makes each notice be
   * recorded once) is kept after it was due (default 30, 1–36 500). Each tick deletes older ones, so
   * the table does not grow forever. Delivery does not depend on it: the notice's event is in the
   * feed and the notice consumer's checkpoint and backlog say what was delivered. Once a task's or
   * deal's watermark moved past a notice it is not computed again, so only a due date moved back to
   * the very same time more than this long after could record that notice again.
   */
  readonly noticeRetentionDays?: number;
  /**
   * How long a notice handler may run (ms) before the attempt counts as failed (its signal is aborted;
   * after 3 failed attempts the notice is parked). Default: the lesser of 10 s and a third of
   * `leaseMs`; at least 50 ms shorter than `leaseMs`. A tick waits for its handlers, so it bounds a tick too.
   */
  readonly noticeTimeoutMs?: number;
}

/**
 * Recorded notices reach handlers through one feed consumer per notice type, `crmkit.scheduler.notices:<type>`,
 * claimed only by processes with a handler of that type: one consumer for all types would let a process
 * that handles one type acknowledge (and so lose) the others, since a partition has one checkpoint.
 * Before, one consumer of this name carried every type: its undelivered notices move to the new ones.
 */
export const NOTICE_CONSUMER = 'crmkit.scheduler.notices';
const NOTICE_TYPES = ['task.reminder', 'task.due', 'task.overdue', 'deal.rotting'];
const NOTICE_PARTITIONS = 4;
/** How often a process that never ticked checks whether it has notice handlers (they would never be called). */
const IDLE_CHECK_MS = 60_000;
/** The soonest `start()` looks again for a retry that is due already but was not taken. */
const RETRY_FLOOR_MS = 1000;
/** Attempts of a batch that keeps meeting concurrent writers before the tick leaves it for the next one. */
const RETRIES = 8;

const NOTICE_EVENTS: Record<'reminder' | 'due' | 'overdue', CrmEventName> = { reminder: 'task.reminder', due: 'task.due', overdue: 'task.overdue' };

/**
 * Processes everything due: task reminders, due and overdue notices, recurring tasks whose time
 * passed, and rotting deals. Safe as a fleet: any number of processes may tick at once on one
 * database. Each tick claims the due tasks and deals it works on (rows other ticks hold are skipped,
 * never waited for), records each notice once — keyed by its idempotency key, in the transaction that
 * moves the task's watermark — and hands recorded notices to handlers through one change-feed consumer
 * per notice type, claimed only by processes with a `crm.on` handler of that type (views' listeners do
 * not count), whose partitions one process at a time holds under a lease. So a notice reaches the
 * handlers of exactly one process that handles its type; only if that process dies between its
 * handlers and its checkpoint does another deliver it again after the lease (handlers can dedupe by
 * `event.data.key`). `crm.scheduler`.
 */
export class Scheduler {
  // What JavaScript could call is #private (methods and the timer handles); the data fields stay
  // TypeScript-private so tests can check they stay bounded.
  #timer: CancelTimer | undefined;
  #stopWatching: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly settings: NoticeSettings;
  private readonly batchSize: number;
  private readonly maxSleepMs: number;
  private readonly leaseMs: number;
  private readonly noticeRetentionMs: number;
  private readonly noticeTimeoutMs: number | undefined;
  /** The notice consumers' runners, by notice type. */
  private notices: Map<string, ConsumerRunner> | undefined;
  /** The last tick left notices to other processes' leases: look again when those could expire. */
  private othersHoldNotices = false;
  /** The earliest retry of a failed notice the last tick left waiting (ms): `wake` must not sleep past it. */
  private retryAt: number | undefined;
  /** Until this process ticks: the check that warns about notice handlers that would never be called. */
  #idleCheck: CancelTimer | undefined;
  /** A notice was replayed since the running wake-up began: it looks again right after its tick. */
  private replayed = false;

  /** @internal */
  constructor(
    private readonly ctx: CrmContext,
    options: SchedulerOptions = {},
  ) {
    this.settings = { overdueAfterMs: (options.overdueAfterMinutes ?? 60) * 60_000 };
    this.batchSize = options.batchSize ?? 100;
    this.maxSleepMs = options.maxSleepMs ?? 3_600_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.noticeRetentionMs = (options.noticeRetentionDays ?? 30) * 86_400_000;
    this.noticeTimeoutMs = options.noticeTimeoutMs;
    this.#idleCheck = ctx.clock.setTimer(() => this.#checkIdle(), IDLE_CHECK_MS);
  }

  /** Warns once when this process has notice handlers but never ticked: notices reach handlers only in processes that tick. */
  #checkIdle(): void {
    // One check, not a re-arming poll: a timer that never ends would keep a fake clock's runAll (host tests) spinning.
    this.#cancelIdleCheck();
    const handled = NOTICE_TYPES.filter((type) => handles(this.ctx.bus, type));
    if (!handled.length) return;
    this.ctx.logger.warn('crmkit: notice handlers in a process that never ticks (crm.scheduler.start() or tick()) are never called', { types: handled });
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#stopWatching !== undefined;
  }

  /**
   * Processes everything due up to `clock.now()` and delivers recorded notices. Safe to call
   * concurrently and from several processes (calls of one instance run one after another); it never
   * throws for concurrency — batches that meet concurrent writers are retried.
   *
   * @example
   * clock.advance(60 * 60_000);
   * const report = await crm.scheduler.tick(); // { due: 3, overdue: 1, … }
   */
  async tick(): Promise<TickReport> {
    this.#cancelIdleCheck();
    const run = this.chain.then(() => this.#runTick());
    this.chain = run.catch(() => undefined);
    return run;
  }

  #cancelIdleCheck(): void {
    this.#idleCheck?.();
    this.#idleCheck = undefined;
  }

  /**
   * Runs the scheduler on the clock's timers: sleeps until the next notice is due (computed, not
   * polled), wakes early when changes touch tasks or deals, or a notice is replayed (`crm.events.replay`)
   * — by other processes too on storage with `externalChanges`.
   */
  start(): void {
    if (this.running) return;
    this.#stopWatching = this.ctx.storage.onChange((batch) => {
      // A replay also keeps the wake-up from being put off by a tick it came during (see `wake`).
      if (resyncs(batch, this.ctx.tenantId) || batch.changes.some((c) => c.entity === 'task' || c.entity === 'deal' || c.entity === 'pipeline' || (this.replayed ||= replayChange(c, NOTICE_CONSUMER)))) this.#arm(0);
    });
    this.#arm(0);
  }

  /** Stops the timers; a tick in flight finishes without waiting for notice handlers (their signal is aborted). */
  async stop(): Promise<void> {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    this.#cancelIdleCheck();
    this.#timer?.();
    this.#timer = undefined;
    // Like a consumer's stop: a handler that ignores its signal is not waited out (its notice stays unacknowledged).
    for (const runner of this.notices?.values() ?? []) runner.interrupt();
    await this.chain;
  }

  /** The next time something becomes due (a task notice or a deal starting to rot), if any. */
  async nextWakeAt(): Promise<number | undefined> {
    return runRead(this.ctx, async (op) => {
      const { rows } = await op.query<Task>('task', {
        filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }, { op: 'gt', field: 'nextNotifyAt', value: '' }] },
        sort: [{ field: 'nextNotifyAt' }],
        limit: 1,
      });
      let next = rows[0]?.nextNotifyAt ? Date.parse(rows[0].nextNotifyAt) : undefined;
      const { rows: pipelines } = await op.query<Pipeline>('pipeline', { filter: { op: 'eq', field: 'archived', value: false } });
      for (const pipeline of pipelines) {
        for (const stage of pipeline.stages) {
          if (stage.kind !== 'open' || !stage.rottenDays) continue;
          const { rows: oldest } = await op.query<Deal>('deal', {
            filter: { op: 'and', filters: [{ op: 'eq', field: 'pipelineId', value: pipeline.id }, { op: 'eq', field: 'stageKey', value: stage.key }, { op: 'eq', field: 'status', value: 'open' }, { op: 'eq', field: 'rottingSince', value: null }] },
            sort: [{ field: 'lastActivityAt' }],
            limit: 1,
          });
          const at = oldest[0] && rottingStartsAt(oldest[0], pipeline);
          if (at !== undefined && (next === undefined || at < next)) next = at;
        }
      }
      return next;
    });
  }

  #arm(delayMs: number): void {
    if (!this.running) return;
    this.#timer?.();
    this.#timer = this.ctx.clock.setTimer(() => void this.#wake(), delayMs);
  }

  async #wake(): Promise<void> {
    if (!this.running) return;
    this.replayed = false;
    try {
      await this.tick();
      const due = (await this.nextWakeAt()) ?? Infinity;
      const now = this.ctx.clock.now();
      // A retry due already is one the drain could not take (deferred, just released): look again soon, not at once.
      const retry = this.retryAt === undefined ? Infinity : Math.max(this.retryAt, now + RETRY_FLOOR_MS);
      // Notices another process holds are delivered here if it dies: look again after its lease.
      const cap = this.othersHoldNotices ? Math.min(this.maxSleepMs, this.leaseMs) : this.maxSleepMs;
      // A replay during the tick may have come after its drain looked: the 0 ms wake it asked for stands.
      this.#arm(this.replayed ? 0 : Math.min(cap, Math.max(0, Math.min(due, retry) - now)));
    } catch (error) {
      if (isCrmError(error, 'CLOSED')) return void (await this.stop());
      this.ctx.logger.error('crmkit: scheduler tick failed; retrying in 30 s', { error });
      this.#arm(30_000);
    }
  }

  async #runTick(): Promise<TickReport> {
    const counts = { reminders: 0, due: 0, overdue: 0, recurrences: 0, rotting: 0, delivered: 0, retried: 0, prunedNotices: 0, automations: 0 };
    // Setting up the notice consumers (and handing the legacy one over) never fails the tick for good: logged, tried again next tick.
    const runners = await this.#retrying(counts, () => this.#noticeRunners()).catch((error: unknown) => {
      if (isCrmError(error, 'CLOSED')) throw error;
      this.ctx.logger.error('crmkit: scheduler notice consumers not set up; retried next tick', { error });
      return undefined;
    });
    // Batches until nothing is due: every batch moves its tasks' next wake-up past now and marks its
    // deals rotting, so this ends — and a tick never stops at an arbitrary number of batches. A batch
    // that keeps meeting concurrent writers (`undefined`) is left for the next tick.
    while (await this.#retrying(counts, () => this.#processTaskBatch(counts)));
    while (await this.#retrying(counts, () => this.#processRottingBatch(counts)));
    // A process claims the notices of the types it has handlers for only: the others wait for a process that has.
    // A process without any notice handler looks again after a lease too (as before): a handler may come.
    let drains = 0;
    let leasedElsewhere = false;
    // Each drain reports its consumer's earliest waiting retry from the stored backlog (whoever left it);
    // a drain that did not finish keeps the wake-up this process had: a tick never drops one it did not serve.
    let retryAt: number | undefined;
    const earliest = (at: number | undefined) => (retryAt = at === undefined || (retryAt !== undefined && retryAt <= at) ? retryAt : at);
    for (const [type, runner] of runners ?? []) {
      if (!handles(this.ctx.bus, type)) continue;
      drains++;
      const drained = await this.#retrying(counts, () => runner.drain());
      counts.delivered += drained?.handled ?? 0;
      leasedElsewhere ||= drained?.leasedElsewhere ?? true;
      earliest(drained ? (drained.nextRetryAt ? Date.parse(drained.nextRetryAt) : undefined) : this.retryAt);
    }
    this.retryAt = retryAt;
    while (await this.#retrying(counts, () => this.#pruneNoticeBatch(counts)));
    const automations = this.ctx.hooks.automations;
    if (automations) counts.automations = (await this.#retrying(counts, () => automations.tick()))?.runs ?? 0;
    this.othersHoldNotices = leasedElsewhere || drains === 0;
    if (counts.reminders + counts.due + counts.overdue + counts.recurrences + counts.rotting + counts.delivered + counts.automations > 0) {
      this.ctx.logger.info('crmkit: scheduler tick', { ...counts });
    }
    return counts;
  }

  /**
   * Runs one unit of work, retrying it when it met concurrent writers (`CONFLICT`, or a retryable
   * `STORAGE` error such as a deadlock or a busy database) with a short jittered pause. After
   * `RETRIES` attempts the work is left for the next tick: `undefined`.
   */
  async #retrying<T>(counts: { retried: number }, work: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        // Not a race `runWrite` already ran again within its bound (`isConcurrent`).
        if (!isConcurrent(error)) throw error;
        counts.retried++;
        if (attempt >= RETRIES) {
          this.ctx.logger.warn('crmkit: scheduler batch kept meeting concurrent writers; left for the next tick', { error });
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.round(5 * attempt * (1 + this.ctx.random.next()))));
      }
    }
  }

  /**
   * The consumers that hand notices to this process's handlers, one per type, created on the first tick
   * of any process (whether it handles notices or not): a handler registered later gets what was recorded since.
   */
  async #noticeRunners(): Promise<Map<string, ConsumerRunner>> {
    if (this.notices) return this.notices;
    // The single consumer of earlier versions: its backlog moves to the new ones, which start at its checkpoint.
    const from = await handoverStart(this.ctx, NOTICE_CONSUMER);
    const workerId = this.ctx.newId('worker', this.ctx.clock.now());
    const runners = new Map<string, ConsumerRunner>();
    for (const type of NOTICE_TYPES) {
      const config = resolveConsumer(`${NOTICE_CONSUMER}:${type}`, 'scheduler', {
        types: [type],
        partitions: NOTICE_PARTITIONS,
        from,
        holdMs: this.noticeRetentionMs, // a notice nobody handles within the retention expires
        batchSize: this.batchSize,
        leaseMs: this.leaseMs,
        ...(this.noticeTimeoutMs ? { handlerTimeoutMs: this.noticeTimeoutMs } : {}), // else a third of the lease, at most 10 s
        maxAttempts: 3,
      });
      await ensureConsumer(this.ctx, config);
      const runner = new ConsumerRunner(
        this.ctx,
        {
          claim: { name: config.name },
          settings: () => config,
          // Handlers are awaited and a failure thrown: the consumer retries the notice, then parks it. A handler
          // removed since the claim: the notice stays for a process that handles it (no attempt counted).
          handler: () => (event: CrmEvent) => {
            if (!handles(this.ctx.bus, type)) throw new DeferEvent(type);
            return dispatch(this.ctx.bus, event);
          },
          workerId,
        },
        { concurrency: 1, pollMs: 1000, partitions: () => config.partitions },
      );
      runners.set(type, runner);
    }
    if (from !== 'now') await handOver(this.ctx, NOTICE_CONSUMER, NOTICE_TYPES, NOTICE_PARTITIONS);
    return (this.notices = runners);
  }

  /** Deletes one batch of notice rows due longer ago than the retention; true when a full batch went. */
  async #pruneNoticeBatch(counts: { prunedNotices: number }): Promise<boolean> {
    const cutoff = toTimestamp(this.ctx.clock.now() - this.noticeRetentionMs);
    const filter = { op: 'lt' as const, field: 'at', value: cutoff };
    // A read first: most ticks find nothing to prune, and a write transaction would take the write lock.
    if (!(await runRead(this.ctx, async (op) => (await op.query('notification', { filter, limit: 1 })).rows.length > 0))) return false;
    const deleted = await runWrite(this.ctx, async (op) => {
      const { rows } = await op.query<NotificationRecord>('notification', { filter, sort: [{ field: 'at' }], limit: this.batchSize });
      for (const row of rows) await op.remove('notification', row);
      return rows.length;
    });
    counts.prunedNotices += deleted;
    return deleted === this.batchSize;
  }

  /**
   * Records a notice once: skipped when its key is in the outbox already. `known` lives for one batch
   * (one transaction) only, so the scheduler keeps no memory across batches or ticks.
   */
  async #recordNotice(
    op: Operation,
    kind: NotificationRecord['kind'],
    key: string,
    at: number,
    subject: { type: string; id: string },
    emit: () => void,
    known: Set<string>,
  ): Promise<boolean> {
    const id = noticeId(key);
    if (known.has(id)) return false;
    known.add(id);
    const before = op.events.length;
    emit();
    const eventId = op.events[before]!.id;
    // Handlers get it from the feed consumer (one process of the fleet), not from this commit.
    op.feedOnly.add(eventId);
    const record: NotificationRecord = {
      id, tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
      key, kind, status: 'recorded', at: toTimestamp(at), subjectId: subject.id, eventId,
    };
    await op.insert('notification', record);
    return true;
  }

  async #processTaskBatch(counts: { reminders: number; due: number; overdue: number; recurrences: number }): Promise<boolean> {
    // A read first: most ticks find nothing, and a write transaction would hold the engine's write lock for nothing.
    if (!(await this.#hasDueTasks())) return false;
    let handled = 0;
    const local = { reminders: 0, due: 0, overdue: 0, recurrences: 0 };
    {
      await runWrite(this.ctx, async (op) => {
        // Counted per run of the transaction: one that met a concurrent writer runs again (`runWrite`).
        Object.assign(local, { reminders: 0, due: 0, overdue: 0, recurrences: 0 });
        // Claimed: other ticks skip these tasks until this transaction ends (no CONFLICT, no deadlock).
        const tasks = (await op.tx.claim('task', op.tenantId, {
          filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }, { op: 'lte', field: 'nextNotifyAt', value: op.now }] },
          sort: [{ field: 'nextNotifyAt' }],
          limit: this.batchSize,
        })) as unknown as Task[];
        handled = tasks.length;
        const ids = tasks.flatMap((task) => pendingNotices(task, op.nowMs, this.settings).filter((n) => n.kind !== 'recur').map((n) => noticeId(n.key)));
        const existing = await op.getMany('notification', ids);
        const known = new Set(existing.filter(Boolean).map((r) => r!.id));
        const created: Task[] = [];
        for (const task of tasks) {
          let spawned = false;
          let stopped: { at: string; reason: string } | undefined;
          for (const notice of pendingNotices(task, op.nowMs, this.settings)) {
            if (notice.kind === 'recur') {
              try {
                const draft = nextOccurrenceDraft(task);
                if (draft) created.push(...(await buildTasks(op, [draft], 'scheduler')));
                spawned = true;
                local.recurrences++;
              } catch (error) {
                // A refused next occurrence must not fail every tick: the series stops here, with the reason, and the batch goes on.
                if (!isCrmError(error) || ['CONFLICT', 'STORAGE', 'CLOSED'].includes(error.code)) throw error;
                stopped = { at: op.now, reason: `${error.code}: ${error.message}`.slice(0, 500) };
                this.ctx.logger.error('crmkit: the next occurrence of a recurring task was refused; its series stops', { taskId: task.id, seriesId: task.recurrence?.seriesId, error });
              }
              continue;
            }
            const dueAt = task.dueAt!;
            const kind = notice.kind;
            const recorded = await this.#recordNotice(op, kind, notice.key, notice.at, { type: 'task', id: task.id }, () => {
              const data = compact({ key: notice.key, dueAt, ownerId: task.ownerId, subject: task.subject, minutesBefore: notice.minutesBefore });
              op.record(NOTICE_EVENTS[kind] as 'task.due', { type: 'task', id: task.id }, data, taskRefs(task));
            }, known);
            if (recorded) local[kind === 'reminder' ? 'reminders' : kind]++;
          }
          const next = reviseRecord(task, op.now, (d) => {
            d.notifiedUntil = op.now;
            if (spawned && d.recurrence) d.recurrence.spawned = true;
            if (stopped && d.recurrence) d.recurrence.stopped = stopped;
            const wake = nextNoticeAt({ ...task, ...(spawned && task.recurrence ? { recurrence: { ...task.recurrence, spawned: true } } : {}) }, op.nowMs, this.settings);
            if (wake === undefined) delete d.nextNotifyAt;
            else d.nextNotifyAt = toTimestamp(wake);
          });
          await op.update('task', task, next);
        }
        await insertTasks(op, created);
        for (const deal of new Set(created.map((t) => t.dealId).filter((id): id is string => !!id))) {
          const stored = await op.get<Deal>('deal', deal);
          if (!stored) continue;
          const { rows: open } = await op.query<Task>('task', { filter: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal }, { op: 'eq', field: 'status', value: 'open' }] } });
          const withStep = withNextStep(stored, open);
          if (withStep !== stored) await op.update('deal', stored, { ...withStep, version: stored.version + 1, updatedAt: op.now });
        }
      });
    }
    // Counted once committed (a retried batch counts once).
    counts.reminders += local.reminders;
    counts.due += local.due;
    counts.overdue += local.overdue;
    counts.recurrences += local.recurrences;
    return handled > 0 && handled === this.batchSize ? true : handled > 0 ? await this.#hasDueTasks() : false;
  }

  async #hasDueTasks(): Promise<boolean> {
    return runRead(this.ctx, async (op) => {
      const { rows } = await op.query('task', {
        filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }, { op: 'lte', field: 'nextNotifyAt', value: op.now }] },
        limit: 1,
      });
      return rows.length > 0;
    });
  }

  async #processRottingBatch(counts: { rotting: number }): Promise<boolean> {
    const any = await runRead(this.ctx, async (op) => {
      const filter = await rottingFilter(op);
      if (filter.op === 'or' && filter.filters.length === 0) return false;
      return (await op.query('deal', { filter: { op: 'and', filters: [filter, { op: 'eq', field: 'rottingSince', value: null }] }, limit: 1 })).rows.length > 0;
    });
    if (!any) return false;
    let handled = 0;
    let rotting = 0;
    let marked = 0;
    {
      await runWrite(this.ctx, async (op) => {
        rotting = marked = 0; // per run of the transaction (see the task batch)
        const filter = await rottingFilter(op);
        const deals = (await op.tx.claim('deal', op.tenantId, {
          filter: { op: 'and', filters: [filter, { op: 'eq', field: 'rottingSince', value: null }] },
          sort: [{ field: 'lastActivityAt' }],
          limit: this.batchSize,
        })) as unknown as Deal[];
        handled = deals.length;
        const pipelines = new Map<string, Pipeline>();
        const known = new Set((await op.getMany('notification', deals.map((d) => noticeId(`rot:${d.id}:${d.lastActivityAt}`)))).filter(Boolean).map((r) => r!.id));
        for (const deal of deals) {
          let pipeline = pipelines.get(deal.pipelineId);
          if (!pipeline) pipelines.set(deal.pipelineId, (pipeline = await op.require<Pipeline>('pipeline', deal.pipelineId)));
          const start = rottingStartsAt(deal, pipeline);
          if (start === undefined) continue;
          const since = toTimestamp(start);
          const stage = pipeline.stages.find((s) => s.key === deal.stageKey)!;
          const key = `rot:${deal.id}:${deal.lastActivityAt}`;
          const recorded = await this.#recordNotice(op, 'rotting', key, start, { type: 'deal', id: deal.id }, () => {
            op.record('deal.rotting', { type: 'deal', id: deal.id }, compact({ key, stageKey: deal.stageKey, since, lastActivityAt: deal.lastActivityAt, rottenDays: stage.rottenDays!, ownerId: deal.ownerId }), dealRefs(deal));
          }, known);
          if (recorded) rotting++;
          await op.update('deal', deal, { ...deal, rottingSince: since, version: deal.version + 1, updatedAt: op.now });
          marked++;
        }
      });
    }
    counts.rotting += rotting;
    // A full batch may have more behind it; one that marked nothing would select the same deals again.
    return handled === this.batchSize && marked > 0;
  }
}

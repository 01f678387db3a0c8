import { isCrmError } from '../errors/crm-error.js';
import type { CancelTimer } from '../domain/clock.js';
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
import { rottingFilter } from '../funnel/rotting.js';
import { buildTasks, insertTasks, taskRefs, withNextStep } from '../tasks/task-writer.js';
import { noticeId } from './notice-id.js';

/** A persisted notice: recorded once per key, then marked delivered after handlers ran. */
export interface NotificationRecord extends RecordBase {
  readonly key: string;
  readonly kind: 'reminder' | 'due' | 'overdue' | 'rotting';
  readonly status: 'pending' | 'delivered';
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
  /** Notices recorded earlier (e.g. before a crash) and delivered again now. */
  readonly redelivered: number;
}

/** Options of the scheduler feature. */
export interface SchedulerOptions {
  /** A timed task becomes overdue this long after it is due (default 60). All-day tasks: at the end of their day. */
  readonly overdueAfterMinutes?: number;
  /** Records handled per transaction (default 100). */
  readonly batchSize?: number;
  /** Longest sleep of `start()` between wake-ups, a safety net for changes made elsewhere (default 1 hour). */
  readonly maxSleepMs?: number;
}

const NOTICE_EVENTS: Record<'reminder' | 'due' | 'overdue', CrmEventName> = { reminder: 'task.reminder', due: 'task.due', overdue: 'task.overdue' };

/**
 * Processes everything due: task reminders, due and overdue notices, recurring tasks whose time
 * passed, and rotting deals. Each notice is written to the outbox and the event log in the same
 * transaction as the task's watermark, keyed by an idempotency key, so it is recorded exactly once
 * even when ticks race in several processes or the process crashes; handlers get it at least once
 * (redelivered until marked delivered) and can dedupe by `event.data.key`. `crm.scheduler`.
 */
export class Scheduler {
  private timer: CancelTimer | undefined;
  private stopWatching: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly settings: NoticeSettings;
  private readonly batchSize: number;
  private readonly maxSleepMs: number;
  /** Keys this instance already handed to handlers (in-process dedupe of redeliveries). */
  private readonly delivered = new Set<string>();

  /** @internal */
  constructor(
    private readonly ctx: CrmContext,
    options: SchedulerOptions = {},
  ) {
    this.settings = { overdueAfterMs: (options.overdueAfterMinutes ?? 60) * 60_000 };
    this.batchSize = options.batchSize ?? 100;
    this.maxSleepMs = options.maxSleepMs ?? 3_600_000;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.stopWatching !== undefined;
  }

  /**
   * Processes everything due up to `clock.now()`. Safe to call concurrently and from several
   * processes: calls of one instance run one after another.
   *
   * @example
   * clock.advance(60 * 60_000);
   * const report = await crm.scheduler.tick(); // { due: 3, overdue: 1, … }
   */
  async tick(): Promise<TickReport> {
    const run = this.chain.then(() => this.runTick());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs the scheduler on the clock's timers: sleeps until the next notice is due (computed, not
   * polled), wakes early when local changes touch tasks or deals.
   */
  start(): void {
    if (this.running) return;
    this.stopWatching = this.ctx.storage.onChange((batch) => {
      if (batch.changes.some((c) => c.entity === 'task' || c.entity === 'deal' || c.entity === 'pipeline')) this.arm(0);
    });
    this.arm(0);
  }

  /** Stops the timers; a tick in flight finishes. */
  async stop(): Promise<void> {
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.timer?.();
    this.timer = undefined;
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

  private arm(delayMs: number): void {
    if (!this.running) return;
    this.timer?.();
    this.timer = this.ctx.clock.setTimer(() => void this.wake(), delayMs);
  }

  private async wake(): Promise<void> {
    if (!this.running) return;
    try {
      await this.tick();
      const next = await this.nextWakeAt();
      const now = this.ctx.clock.now();
      this.arm(Math.min(this.maxSleepMs, next === undefined ? this.maxSleepMs : Math.max(0, next - now)));
    } catch (error) {
      if (isCrmError(error, 'CLOSED')) return void (await this.stop());
      this.ctx.logger.error('crmkit: scheduler tick failed; retrying in 30 s', { error });
      this.arm(30_000);
    }
  }

  private async runTick(): Promise<TickReport> {
    const counts = { reminders: 0, due: 0, overdue: 0, recurrences: 0, rotting: 0, redelivered: await this.redeliverPending() };
    // Batches until nothing is due: every batch moves its tasks' next wake-up past now and marks its
    // deals rotting, so this ends — and a tick never stops at an arbitrary number of batches.
    while (await this.processTaskBatch(counts));
    while (await this.processRottingBatch(counts));
    if (counts.reminders + counts.due + counts.overdue + counts.recurrences + counts.rotting > 0) {
      this.ctx.logger.info('crmkit: scheduler tick', { ...counts });
    }
    return counts;
  }

  /** Records a notice once: skipped when its key is in the outbox already. */
  private async recordNotice(
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
    const record: NotificationRecord = {
      id, tenantId: op.tenantId, version: 1, createdAt: op.now, updatedAt: op.now,
      key, kind, status: 'pending', at: new Date(at).toISOString(), subjectId: subject.id, eventId: op.events[before]!.id,
    };
    await op.insert('notification', record);
    return true;
  }

  private async processTaskBatch(counts: { reminders: number; due: number; overdue: number; recurrences: number }): Promise<boolean> {
    const fired: string[] = [];
    let handled = 0;
    try {
      await runWrite(this.ctx, async (op) => {
        const { rows: tasks } = await op.query<Task>('task', {
          filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }, { op: 'lte', field: 'nextNotifyAt', value: op.now }] },
          sort: [{ field: 'nextNotifyAt' }],
          limit: this.batchSize,
        });
        handled = tasks.length;
        const ids = tasks.flatMap((task) => pendingNotices(task, op.nowMs, this.settings).filter((n) => n.kind !== 'recur').map((n) => noticeId(n.key)));
        const existing = await op.getMany('notification', ids);
        const known = new Set(existing.filter(Boolean).map((r) => r!.id));
        const created: Task[] = [];
        for (const task of tasks) {
          let spawned = false;
          for (const notice of pendingNotices(task, op.nowMs, this.settings)) {
            if (notice.kind === 'recur') {
              const draft = nextOccurrenceDraft(task);
              if (draft) created.push(...(await buildTasks(op, [draft], 'scheduler')));
              spawned = true;
              counts.recurrences++;
              continue;
            }
            const dueAt = task.dueAt!;
            const kind = notice.kind;
            const recorded = await this.recordNotice(op, kind, notice.key, notice.at, { type: 'task', id: task.id }, () => {
              const data = compact({ key: notice.key, dueAt, ownerId: task.ownerId, subject: task.subject, minutesBefore: notice.minutesBefore });
              op.record(NOTICE_EVENTS[kind] as 'task.due', { type: 'task', id: task.id }, data, taskRefs(task));
            }, known);
            if (recorded) {
              fired.push(notice.key);
              counts[kind === 'reminder' ? 'reminders' : kind]++;
            }
          }
          const next = reviseRecord(task, op.now, (d) => {
            d.notifiedUntil = op.now;
            if (spawned && d.recurrence) d.recurrence.spawned = true;
            const wake = nextNoticeAt({ ...task, ...(spawned && task.recurrence ? { recurrence: { ...task.recurrence, spawned: true } } : {}) }, op.nowMs, this.settings);
            if (wake === undefined) delete d.nextNotifyAt;
            else d.nextNotifyAt = new Date(wake).toISOString();
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
    } catch (error) {
      // Another process handled these tasks first: its writes won; look again next round.
      if (isCrmError(error, 'CONFLICT')) return true;
      throw error;
    }
    await this.markDelivered(fired);
    return handled > 0 && handled === this.batchSize ? true : handled > 0 ? await this.hasDueTasks() : false;
  }

  private async hasDueTasks(): Promise<boolean> {
    return runRead(this.ctx, async (op) => {
      const { rows } = await op.query('task', {
        filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'open' }, { op: 'lte', field: 'nextNotifyAt', value: op.now }] },
        limit: 1,
      });
      return rows.length > 0;
    });
  }

  private async processRottingBatch(counts: { rotting: number }): Promise<boolean> {
    const keys: string[] = [];
    let handled = 0;
    let marked = 0;
    try {
      await runWrite(this.ctx, async (op) => {
        const filter = await rottingFilter(op);
        const { rows: deals } = await op.query<Deal>('deal', {
          filter: { op: 'and', filters: [filter, { op: 'eq', field: 'rottingSince', value: null }] },
          sort: [{ field: 'lastActivityAt' }],
          limit: this.batchSize,
        });
        handled = deals.length;
        const pipelines = new Map<string, Pipeline>();
        const known = new Set((await op.getMany('notification', deals.map((d) => noticeId(`rot:${d.id}:${d.lastActivityAt}`)))).filter(Boolean).map((r) => r!.id));
        for (const deal of deals) {
          let pipeline = pipelines.get(deal.pipelineId);
          if (!pipeline) pipelines.set(deal.pipelineId, (pipeline = await op.require<Pipeline>('pipeline', deal.pipelineId)));
          const start = rottingStartsAt(deal, pipeline);
          if (start === undefined) continue;
          const since = new Date(start).toISOString();
          const stage = pipeline.stages.find((s) => s.key === deal.stageKey)!;
          const key = `rot:${deal.id}:${deal.lastActivityAt}`;
          const recorded = await this.recordNotice(op, 'rotting', key, start, { type: 'deal', id: deal.id }, () => {
            op.record('deal.rotting', { type: 'deal', id: deal.id }, compact({ key, stageKey: deal.stageKey, since, lastActivityAt: deal.lastActivityAt, rottenDays: stage.rottenDays!, ownerId: deal.ownerId }), dealRefs(deal));
          }, known);
          if (recorded) {
            keys.push(key);
            counts.rotting++;
          }
          await op.update('deal', deal, { ...deal, rottingSince: since, version: deal.version + 1, updatedAt: op.now });
          marked++;
        }
      });
    } catch (error) {
      if (isCrmError(error, 'CONFLICT')) return true;
      throw error;
    }
    await this.markDelivered(keys);
    // A full batch may have more behind it; one that marked nothing would select the same deals again.
    return handled === this.batchSize && marked > 0;
  }

  /** Marks notices delivered once their events reached the handlers of this process. */
  private async markDelivered(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    for (const key of keys) this.delivered.add(key);
    await runWrite(this.ctx, async (op) => {
      const rows = await op.getMany<NotificationRecord>('notification', keys.map(noticeId));
      for (const row of rows) {
        if (row && row.status === 'pending') await op.update('notification', row, { ...row, status: 'delivered', deliveredAt: op.now, version: row.version + 1, updatedAt: op.now });
      }
    });
  }

  /**
   * Delivers notices recorded but not marked delivered — the process stopped between the commit
   * and the handlers. Their events are emitted again (at-least-once) unless this instance delivered them.
   */
  private async redeliverPending(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows, events } = await runRead(this.ctx, async (op) => {
        const { rows } = await op.query<NotificationRecord>('notification', { filter: { op: 'eq', field: 'status', value: 'pending' }, sort: [{ field: 'at' }], limit: this.batchSize });
        const events = await op.getMany('event', rows.map((r) => r.eventId));
        return { rows, events };
      });
      if (rows.length === 0) return total;
      rows.forEach((row, i) => {
        const event = events[i];
        if (event && !this.delivered.has(row.key)) this.ctx.bus.emit(event as never);
      });
      total += rows.filter((r) => !this.delivered.has(r.key)).length;
      await this.markDelivered(rows.map((r) => r.key));
    }
  }
}

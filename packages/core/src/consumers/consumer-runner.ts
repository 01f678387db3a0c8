import { CrmError, isCrmError } from '../errors/crm-error.js';
import { toTimestamp } from '../domain/clock.js';
import type { CrmContext } from '../crm/context.js';
import { runRead } from '../crm/operation.js';
import type { Filter } from '../query/query-spec.js';
import { resyncs, type Change } from '../storage/storage-adapter.js';
import { consumerPartitions, type BacklogRow } from './consumer-rows.js';
import type { PassReport } from './consumer-options.js';
import { checkClockSkew } from './clock-check.js';
import { runPass, type PassOutcome, type PassRequest } from './consumer-pass.js';

/** Lets timers and I/O run between passes (passes on memory storage resolve in microtasks only). */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/** What `drain()` did. */
export interface DrainReport {
  /** Passes that committed work. */
  readonly passes: number;
  readonly handled: number;
  readonly failed: number;
  readonly parked: number;
  readonly queued: number;
  /** The earliest retry still waiting in the backlog (ISO time), if any, in partitions no other worker holds. */
  readonly nextRetryAt?: string;
  /**
   * Some partitions were held by other workers (during a pass or when it ended): their events are
   * theirs to handle, or this worker's once the lease expires — look again after about one lease.
   */
  readonly leasedElsewhere: boolean;
}

/** What a named consumer's rows say before or after a round of passes. */
interface Outlook {
  readonly work: boolean;
  readonly nextRetryAt?: number;
  readonly leasedElsewhere: boolean;
}

const report = (o: { readonly nextRetryAt?: number | undefined; readonly leasedElsewhere: boolean }) => ({
  leasedElsewhere: o.leasedElsewhere,
  ...(o.nextRetryAt !== undefined ? { nextRetryAt: toTimestamp(o.nextRetryAt) } : {}),
});

/**
 * Whether a committed change may have put an event of the consumers whose names start with `prefix`
 * back in line (a replay, due now): their sleeping runners look now. Another process's change carries
 * no row, so any backlog row it wrote counts; a local one only when it is a replay (a pass's own
 * retries and queued events are not).
 */
export const replayChange = (c: Change, prefix = ''): boolean =>
  c.entity === 'consumerBacklog' && c.id.startsWith(prefix) && (c.row ? !!c.row.replay && !c.row.attempts : c.op === 'put');

/** Runs passes of one request: in the background (`start`) or until caught up (`drain`). */
export class ConsumerRunner {
  private running = false;
  private loops: Promise<void>[] = [];
  private wakers = new Set<() => void>();
  /** Woken while no loop slept (mid-pass): the next loop to sleep looks again first. */
  private woken = false;
  private stopWatching: (() => void) | undefined;
  private controller = new AbortController();

  constructor(
    private readonly ctx: CrmContext,
    private readonly request: Omit<PassRequest, 'stopping'>,
    private readonly options: {
      readonly concurrency: number;
      readonly pollMs: number;
      readonly onPass?: (report: PassReport) => void;
      /** How many partitions the runner may claim: that many idle passes in a row mean nothing is left. */
      readonly partitions: () => number | Promise<number>;
    },
  ) {}

  get active(): boolean {
    return this.running;
  }

  /** The consumer this runner works for, when it runs one by name. */
  get consumerName(): string | undefined {
    return 'name' in this.request.claim ? this.request.claim.name : undefined;
  }

  /**
   * Starts `concurrency` loops; they wake on new events and replays of its consumers' events (local, or
   * from other processes on storage with `externalChanges`) and every `pollMs`.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.controller = new AbortController();
    const { tenantId } = this.ctx;
    this.stopWatching = this.ctx.storage.onChange((batch) => {
      if (resyncs(batch, tenantId) || batch.changes.some((c) => c.tenantId === tenantId && (c.entity === 'event' || replayChange(c, this.consumerName)))) this.wakeAll();
    });
    for (let i = 0; i < this.options.concurrency; i++) this.loops.push(this.loop());
    void checkClockSkew(this.ctx);
  }

  /** Stops the loops: handlers in flight see their signal aborted; resolves when the loops ended. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.controller.abort();
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.wakeAll(); // ends every sleep, its timer cancelled
    await Promise.all(this.loops);
    this.loops = [];
  }

  /**
   * Aborts the passes of a `drain()` in flight (a runner that was not started): handlers see their
   * signal aborted and are not waited for, their events stay unacknowledged. The next drain starts afresh.
   */
  interrupt(): void {
    if (!this.running) this.controller.abort();
  }

  /**
   * Runs passes until every partition was looked at without finding work (or all are leased by others),
   * then resolves. Retries that are not due yet stay in the backlog (see `nextRetryAt`).
   */
  async drain(): Promise<DrainReport> {
    const totals = { passes: 0, handled: 0, failed: 0, parked: 0, queued: 0 };
    let idle = 0;
    let nextRetryAt: number | undefined;
    let leasedElsewhere = false;
    if (!this.running && this.controller.signal.aborted) this.controller = new AbortController();
    void checkClockSkew(this.ctx);
    const before = await this.outlook();
    if (!before.work) return { ...totals, ...report(before) };
    const partitions = Math.max(1, await this.options.partitions());
    for (let guard = 0; guard < 1_000_000; guard++) {
      const outcome = await this.pass();
      if (outcome.stale) throw this.staleError();
      if (!outcome.claimed) {
        leasedElsewhere = true;
        break;
      }
      if (outcome.nextRetryAt !== undefined) nextRetryAt = Math.min(nextRetryAt ?? outcome.nextRetryAt, outcome.nextRetryAt);
      if (outcome.report && outcome.progressed) {
        totals.passes++;
        totals.handled += outcome.report.handled.length;
        totals.failed += outcome.report.failed.length;
        totals.parked += outcome.report.parked.length;
        totals.queued += outcome.report.queued.length;
      }
      idle = outcome.progressed ? 0 : idle + 1;
      if (idle >= partitions) break;
    }
    // Read after the passes: retries and leases of every partition, whoever left them (another process, an earlier pass).
    const after = await this.outlook();
    if (after.nextRetryAt !== undefined) nextRetryAt = Math.min(nextRetryAt ?? after.nextRetryAt, after.nextRetryAt);
    return { ...totals, ...report({ leasedElsewhere: leasedElsewhere || after.leasedElsewhere, nextRetryAt }) };
  }

  /**
   * One read instead of a round of passes when nothing is to do: no event of the consumer's types
   * after its lowest checkpoint and no retry due. Also what a caller's sleep must not outlast: the
   * earliest retry waiting in a partition no other worker holds (held ones are the holder's until its
   * lease ends) and whether another worker holds a partition. (Only a runner of one named consumer looks.)
   */
  private async outlook(): Promise<Outlook> {
    const name = this.consumerName;
    if (name === undefined) return { work: true, leasedElsewhere: false };
    return runRead(this.ctx, async (op) => {
      const rows = await consumerPartitions(op, name);
      if (rows.length === 0) return { work: false, leasedElsewhere: false };
      const free = rows.filter((r) => !(r.leaseUntil && r.leaseUntil >= op.now && r.leaseOwner !== this.request.workerId));
      const leasedElsewhere = free.length < rows.length;
      const pending: Filter[] = [{ op: 'eq', field: 'consumer', value: name }, { op: 'eq', field: 'status', value: 'pending' }];
      // Tried at least once (entries queued behind a failing one, attempts 0, wait for it, not for their own
      // time), or put in line after its partition's last pass began (a replay that pass did not see: due now).
      const { rows: [retry] } = free.length
        ? await op.query<BacklogRow>('consumerBacklog', {
            filter: { op: 'and', filters: [...pending, { op: 'or', filters: free.map((r): Filter => ({ op: 'and', filters: [{ op: 'eq', field: 'partition', value: r.partition }, { op: 'or', filters: [{ op: 'gt', field: 'attempts', value: 0 }, { op: 'gt', field: 'nextAttemptAt', value: r.lastRunAt ?? '' }] }] })) }] },
            sort: [{ field: 'nextAttemptAt' }],
            limit: 1,
          })
        : { rows: [] };
      const found = { leasedElsewhere, ...(retry ? { nextRetryAt: Date.parse(retry.nextAttemptAt) } : {}) };
      const from = Math.min(...rows.map((r) => r.position));
      const types = rows[0]!.types;
      const filters: Filter[] = [{ op: 'gt', field: 'position', value: from }];
      if (types) filters.push({ op: 'in', field: 'type', values: types });
      const { rows: next } = await op.query('event', { filter: { op: 'and', filters }, limit: 1 });
      if (next.length) return { work: true, ...found };
      const { rows: due } = await op.query('consumerBacklog', { filter: { op: 'and', filters: [...pending, { op: 'lte', field: 'nextAttemptAt', value: op.now }] }, limit: 1 });
      return { work: due.length > 0, ...found };
    });
  }

  /** The error of a runner whose consumer was removed and defined anew (by this or another process). */
  private staleError(): CrmError<'CONFLICT'> {
    const name = this.consumerName ?? '';
    return new CrmError('CONFLICT', `Consumer "${name}" was removed and defined anew since this runner started: it stops (start the new definition instead)`, {
      entity: 'consumer', id: name, expectedVersion: null, actualVersion: null, reason: 'redefined',
    });
  }

  private async pass(): Promise<PassOutcome> {
    const outcome = await runPass(this.ctx, { ...this.request, stopping: this.controller.signal });
    if (outcome.report && outcome.progressed) {
      const failed = (error: unknown) => this.ctx.logger.error('crmkit: an onPass callback threw', { error });
      try {
        // An async callback's rejection is logged like a throw (never an unhandled rejection); it is not awaited.
        const result: unknown = this.options.onPass?.(outcome.report);
        if (result && typeof (result as PromiseLike<unknown>).then === 'function') Promise.resolve(result).catch(failed);
      } catch (error) {
        failed(error);
      }
    }
    return outcome;
  }

  private wakeAll(): void {
    this.woken = !this.wakers.size;
    for (const wake of [...this.wakers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        cancel();
        this.wakers.delete(done);
        resolve();
      };
      const cancel = this.ctx.clock.setTimer(done, ms);
      this.wakers.add(done);
    });
  }

  private async loop(): Promise<void> {
    let idle = 0;
    let failures = 0;
    let partitions = 1;
    while (this.running) {
      try {
        if (idle === 0) partitions = Math.max(1, await this.options.partitions());
        const outcome = await this.pass();
        if (outcome.stale) {
          // Its handler and settings are another definition's: running them on the new one would be wrong.
          this.ctx.logger.error('crmkit: a consumer runner stopped', { error: this.staleError() });
          this.running = false;
          this.stopWatching?.();
          this.stopWatching = undefined;
          return;
        }
        failures = 0;
        if (!this.running) return; // stopped during the pass: no sleep (its wakers were called already)
        if (outcome.claimed && outcome.progressed) {
          idle = 0;
          await yieldToEventLoop();
          continue;
        }
        idle++;
        // Keep looking while partitions remain unchecked; then sleep until woken, a retry is due, or pollMs.
        if (outcome.claimed && idle < partitions) continue;
        idle = 0;
        const untilRetry = outcome.nextRetryAt === undefined ? Infinity : Math.max(0, outcome.nextRetryAt - this.ctx.clock.now());
        await this.sleep(Math.min(this.options.pollMs, untilRetry));
        // Woken or polled: a cheap look before another round of passes.
        while (this.running && !(await this.outlook()).work) await this.sleep(this.options.pollMs);
      } catch (error) {
        if (isCrmError(error, 'CLOSED')) {
          this.running = false;
          return;
        }
        // Storage trouble (a lost connection, a busy database): back off, keep the loop alive.
        failures++;
        this.ctx.logger.error('crmkit: a consumer pass failed; retrying', { error });
        await this.sleep(Math.min(30_000, this.options.pollMs * 2 ** Math.min(failures, 5)));
      }
    }
  }
}

import { CrmError, isCrmError } from '../errors/crm-error.js';
import { toTimestamp } from '../domain/clock.js';
import { without } from '../domain/records.js';
import type { CrmEvent } from '../events/event-map.js';
import type { Filter } from '../query/query-spec.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { backoffDelay, DeferEvent, type EventHandler, type PassReport, type ResolvedConsumer } from './consumer-options.js';
import { describeFailure } from './describe-failure.js';
import { backlogId, shardsOf, type BacklogRow, type ConsumerError, type ConsumerRow } from './consumer-rows.js';
import { readFeedPage } from './feed-read.js';
import { deepFreeze } from '../storage/deep-freeze.js';
import { insertMany } from '../crm/feature-writes.js';

/** Pending backlog entries a partition keeps before it stops reading new events (back-pressure). */
const BACKLOG_LIMIT = 1000;

/** What a runner asks a pass to do. */
export interface PassRequest {
  /** Which consumers may be claimed: one by name, or every unpaused one of a group. */
  readonly claim: { readonly name: string } | { readonly group: string };
  /** Settings of the claimed consumer (a group runner resolves them per consumer). */
  settings(row: ConsumerRow): ResolvedConsumer | undefined;
  /** The handler of the claimed consumer. */
  handler(row: ConsumerRow): EventHandler | undefined;
  readonly workerId: string;
  /** Aborted when the runner stops: handlers see it through their signal. */
  readonly stopping?: AbortSignal;
  /** The definition this runner was started for (a named consumer): rows of another one are not claimed. */
  readonly definition?: { readonly generation: string | undefined };
}

/** The outcome of one pass. */
export interface PassOutcome {
  /** A partition was claimed (false: all were leased by others or none exist). */
  readonly claimed: boolean;
  /** Events were handled, queued, retried or parked, or the checkpoint moved. */
  readonly progressed: boolean;
  /** The pass's commit found its lease taken over (its work will be redone by the new holder). */
  readonly lostLease: boolean;
  /** The stored consumer is another definition than the runner's (removed and defined anew): stop. */
  readonly stale?: boolean;
  /** The earliest retry time left in the partition's backlog (epoch ms), if any. */
  readonly nextRetryAt?: number;
  readonly report?: PassReport;
}

/** The counter that orders claims (a round robin over free partitions, whatever the clock says). */
const TURN_SEQUENCE = 'consumerTurn';

/** Claims one free partition (lease free or expired), least recently run first, and leases it. */
async function claimPartition(ctx: CrmContext, request: PassRequest): Promise<ConsumerRow | 'stale' | undefined> {
  return runWrite(ctx, async (op) => {
    const free: Filter = { op: 'or', filters: [{ op: 'eq', field: 'leaseUntil', value: null }, { op: 'lt', field: 'leaseUntil', value: op.now }] };
    const scope: Filter =
      'name' in request.claim ? { op: 'eq', field: 'name', value: request.claim.name } : { op: 'and', filters: [{ op: 'eq', field: 'group', value: request.claim.group }, { op: 'eq', field: 'paused', value: false }] };
    const [row] = (await op.tx.claim('consumer', op.tenantId, { filter: { op: 'and', filters: [scope, free] }, sort: [{ field: 'turn' }], limit: 1 })) as unknown as ConsumerRow[];
    if (!row) return undefined;
    if (request.definition && row.generation !== request.definition.generation) return 'stale';
    const settings = request.settings(row);
    if (!settings) return undefined;
    const leased: ConsumerRow = {
      ...row,
      version: row.version + 1,
      updatedAt: op.now,
      turn: await op.tx.nextSequence(TURN_SEQUENCE, op.tenantId, 1),
      leaseOwner: request.workerId,
      leaseUntil: toTimestamp(op.nowMs + settings.leaseMs),
      leaseToken: ctx.newId('lease', op.nowMs),
    };
    await op.update('consumer', row, leased);
    return leased;
  });
}

/** Extends a held lease by `leaseMs` from now; undefined when another worker holds the partition now. */
async function renewLease(ctx: CrmContext, row: ConsumerRow, leaseMs: number): Promise<number | undefined> {
  try {
    return await runWrite(ctx, async (op) => {
      const current = await op.get<ConsumerRow>('consumer', row.id);
      if (!current || current.leaseToken !== row.leaseToken) return undefined;
      const until = op.nowMs + leaseMs;
      await op.update('consumer', current, { ...current, version: current.version + 1, updatedAt: op.now, leaseUntil: toTimestamp(until) });
      return until;
    });
  } catch (error) {
    if (isCrmError(error, 'CONFLICT')) return undefined; // the row changed under us (a claim or a reconfiguration): stop here
    throw error;
  }
}

/** Gives up a held lease (token-checked) without moving the checkpoint. */
async function releaseLease(ctx: CrmContext, row: ConsumerRow): Promise<void> {
  await runWrite(ctx, async (op) => {
    const current = await op.get<ConsumerRow>('consumer', row.id);
    if (!current || current.leaseToken !== row.leaseToken) return;
    await op.update('consumer', current, { ...without(current, 'leaseOwner', 'leaseUntil', 'leaseToken'), version: current.version + 1, updatedAt: op.now } as ConsumerRow);
  });
}

/** Whether a handler asked to be called again later (`instanceof` itself throws for a revoked proxy). */
function isDefer(error: unknown): boolean {
  try {
    return error instanceof DeferEvent;
  } catch {
    return false;
  }
}

/**
 * Calls the handler with a timeout; resolves to the failure, or undefined on success. The failure is
 * boxed: resolving with the thrown value itself would adopt a thrown thenable, and reading `then` of
 * a revoked proxy throws.
 */
async function invoke(handler: EventHandler, event: CrmEvent, row: ConsumerRow, attempt: number, replayed: boolean, timeoutMs: number, stopping: AbortSignal | undefined): Promise<{ readonly error: unknown } | undefined> {
  const controller = new AbortController();
  // On stop the pass does not wait for a handler that ignores its signal: the event stays unacknowledged
  // (a deferral, no attempt counted) and the handler is left to finish on its own.
  let abandon: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => (abandon = () => reject(new DeferEvent('the consumer is stopping'))));
  stopped.catch(() => undefined);
  const stop = () => {
    controller.abort(new CrmError('CLOSED', 'The consumer is stopping', { what: 'consumer' }));
    abandon?.();
  };
  if (stopping?.aborted) stop();
  stopping?.addEventListener('abort', stop, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      // Real time, not the crm clock: a hung handler hangs in real time.
      timer = setTimeout(() => {
        const error = new Error(`the handler did not finish within ${timeoutMs} ms`);
        error.name = 'TimeoutError';
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    await Promise.race([Promise.resolve().then(() => handler(event, { attempt, signal: controller.signal, consumer: row.name, partition: row.partition, lease: row.leaseToken!, replayed })), timeout, stopped]);
    return undefined;
  } catch (error) {
    return { error: error ?? new Error('the handler failed') };
  } finally {
    if (timer) clearTimeout(timer);
    stopping?.removeEventListener('abort', stop);
  }
}

/**
 * Runs one pass: claims a partition, handles its due retries and then new events in position order,
 * and commits the checkpoint, the backlog changes and the lease release in one transaction — only if
 * the lease still holds, so work of a worker that lost its partition is never acknowledged.
 *
 * Per record (subject) order: while an event of a record waits for a retry, later events of that
 * record queue behind it in the backlog; other records go on. An event that exhausts its attempts is
 * parked and the record's next event goes on.
 */
export async function runPass(ctx: CrmContext, request: PassRequest): Promise<PassOutcome> {
  const row = await claimPartition(ctx, request);
  if (row === 'stale') return { claimed: false, progressed: false, lostLease: false, stale: true };
  if (!row) return { claimed: false, progressed: false, lostLease: false };
  const settings = request.settings(row)!;
  const handler = request.handler(row);
  let leaseUntil = Date.parse(row.leaseUntil!);
  const nowMs = () => ctx.clock.now();

  const { pending, page, held } = await runRead(ctx, async (op) => {
    // Frozen like feed events: a retry gets the event as stored, whatever an earlier attempt's handler tried.
    const { rows: pending } = await op.query<BacklogRow>('consumerBacklog', {
      filter: { op: 'and', filters: [{ op: 'eq', field: 'consumer', value: row.name }, { op: 'eq', field: 'partition', value: row.partition }, { op: 'eq', field: 'status', value: 'pending' }] },
      sort: [{ field: 'position' }],
      limit: BACKLOG_LIMIT,
    });
    pending.forEach(deepFreeze);
    const full = pending.length >= BACKLOG_LIMIT;
    const page = full ? undefined : await readFeedPage(op, row.position, settings.batchSize, { shards: shardsOf(row.partition, row.partitions), types: settings.types });
    // Feed events the backlog holds already, whatever their status: a parked one stays parked (until a
    // replay or discard) even when the checkpoint is below it — a notice consumer handed over from the
    // legacy one starts at its slowest partition's checkpoint.
    const held = page ? await op.getMany<BacklogRow>('consumerBacklog', page.events.map((e) => backlogId(row.name, e.id))) : [];
    return { pending, page, held };
  });

  const inserts: BacklogRow[] = [];
  const updates: { before: BacklogRow; after: BacklogRow }[] = [];
  const deletes: BacklogRow[] = [];
  const handled: string[] = [];
  const failed: string[] = [];
  const parked: string[] = [];
  const queued: string[] = [];
  let lastError: ConsumerError | undefined;
  let stoppedEarly = false;
  // Room for one more handler call and the commit inside the lease; when it runs short the lease is
  // renewed (token-checked), so a slow commit or connection wait does not let another worker take the
  // partition over mid-pass and redo — for webhooks: resend — what this pass already handled.
  // The margin never takes more than half of what the options leave between the handler timeout and
  // the lease: any accepted pair of settings can make progress.
  const reserve = Math.min(Math.max(50, Math.floor(settings.leaseMs / 10)), Math.floor((settings.leaseMs - settings.handlerTimeoutMs) / 2));
  const timeLeft = async (): Promise<boolean> => {
    if (request.stopping?.aborted) return false;
    if (leaseUntil - nowMs() >= settings.handlerTimeoutMs + reserve) return true;
    const renewed = await renewLease(ctx, row, settings.leaseMs);
    if (renewed === undefined) return false;
    leaseUntil = renewed;
    // Just renewed: nothing longer can be had, so a handler call that fits the lease goes on.
    return leaseUntil - nowMs() >= settings.handlerTimeoutMs;
  };

  // The failure stays boxed until it is used (never undefined: invoke turns a thrown undefined into an Error).
  const attempt = async (event: CrmEvent, attemptNo: number, replayed = false): Promise<{ readonly error: unknown } | undefined> => {
    if (!handler) return { error: new Error('no handler is registered for this consumer in this process') };
    return invoke(handler, event, row, attemptNo, replayed, settings.handlerTimeoutMs, request.stopping);
  };
  const failure = (error: unknown, eventId: string): ConsumerError => (lastError = { message: describeFailure(error), at: toTimestamp(nowMs()), eventId });

  // 1. The backlog: per record, the first pending event is tried when due; on success the next follows.
  const blocked = new Set<string>();
  const bySubject = new Map<string, BacklogRow[]>();
  for (const entry of pending) {
    const list = bySubject.get(entry.subjectId);
    if (list) list.push(entry);
    else bySubject.set(entry.subjectId, [entry]);
  }
  let nextRetryAt: number | undefined;
  for (const [subject, entries] of bySubject) {
    blocked.add(subject);
    for (const entry of entries) {
      // Ahead of the checkpoint (a replayed hand-over notice): tried once the checkpoint reaches it, so it is
      // neither sent before its record's earlier events nor sent again when the feed is read up to it.
      if (entry.position > row.position) break;
      const due = Date.parse(entry.nextAttemptAt);
      if (due > nowMs()) {
        nextRetryAt = Math.min(nextRetryAt ?? due, due);
        break;
      }
      if (!(await timeLeft())) {
        stoppedEarly = true;
        break;
      }
      const tries = entry.attempts + 1;
      const error = (await attempt(entry.event, tries, entry.replay === true))?.error;
      if (isDefer(error)) {
        stoppedEarly = true;
        break;
      }
      if (error === undefined) {
        deletes.push(entry);
        handled.push(entry.eventId);
        continue;
      }
      const now = nowMs();
      const recorded = failure(error, entry.eventId);
      if (tries >= settings.maxAttempts) {
        updates.push({ before: entry, after: { ...entry, version: entry.version + 1, updatedAt: toTimestamp(now), status: 'parked', attempts: tries, lastError: recorded, parkedAt: toTimestamp(now) } });
        parked.push(entry.eventId);
        continue; // the record's next event goes on
      }
      const retryAt = now + backoffDelay(settings.backoff, tries, ctx.random.next());
      nextRetryAt = Math.min(nextRetryAt ?? retryAt, retryAt);
      updates.push({ before: entry, after: { ...entry, version: entry.version + 1, updatedAt: toTimestamp(now), attempts: tries, nextAttemptAt: toTimestamp(retryAt), lastError: recorded } });
      failed.push(entry.eventId);
      break;
    }
    if (!entries.some((e) => !deletes.includes(e) && !parked.includes(e.eventId))) blocked.delete(subject);
    if (stoppedEarly) break;
  }

  // 2. New events in position order. The checkpoint advances over every event handled or queued.
  let position = row.position;
  const inBacklog = new Map(held.map((entry) => [entry?.eventId, entry]));
  if (page && !stoppedEarly) {
    let complete = true;
    for (const event of page.events) {
      const now = nowMs();
      const queue = (attempts: number, retryAt: number, error?: ConsumerError, status: BacklogRow['status'] = 'pending') =>
        inserts.push({
          id: backlogId(row.name, event.id), tenantId: row.tenantId, version: 1, createdAt: toTimestamp(now), updatedAt: toTimestamp(now),
          consumer: row.name, partition: row.partition, subjectId: event.subjectId, eventId: event.id, position: event.position!,
          status, attempts, nextAttemptAt: toTimestamp(retryAt), event,
          ...(error ? { lastError: error } : {}), ...(status === 'parked' ? { parkedAt: toTimestamp(now) } : {}),
        });
      // Already in the backlog (parked, or replayed ahead of the checkpoint): handled there, never twice;
      // a pending one holds its record's later events back. A discarded marker (see discardParked) goes
      // once the checkpoint passes it.
      const known = inBacklog.get(event.id);
      if (known) {
        if (known.status === 'pending') blocked.add(event.subjectId);
        if (known.status === 'discarded') deletes.push(known);
        position = event.position!;
        continue;
      }
      if (blocked.has(event.subjectId)) {
        // Due once its record's earlier events are done; stamped with the pass's start, so that entries in
        // line after it are replays it did not see (see the runner's outlook).
        queue(0, Date.parse(row.updatedAt));
        queued.push(event.id);
        position = event.position!;
        continue;
      }
      if (!(await timeLeft())) {
        complete = false;
        break;
      }
      const error = (await attempt(event, 1))?.error;
      if (isDefer(error)) {
        complete = false;
        break;
      }
      if (error === undefined) handled.push(event.id);
      else {
        const recorded = failure(error, event.id);
        if (settings.maxAttempts <= 1) {
          queue(1, now, recorded, 'parked');
          parked.push(event.id);
        } else {
          const retryAt = nowMs() + backoffDelay(settings.backoff, 1, ctx.random.next());
          nextRetryAt = Math.min(nextRetryAt ?? retryAt, retryAt);
          queue(1, retryAt, recorded);
          failed.push(event.id);
          blocked.add(event.subjectId);
        }
      }
      position = event.position!;
    }
    if (complete) position = page.position;
  }

  // 3. Commit, if the lease still holds (renewed first when the commit itself would run into its end).
  if (leaseUntil - nowMs() < reserve) await renewLease(ctx, row, settings.leaseMs);
  const progressed = position !== row.position || inserts.length + updates.length + deletes.length > 0;
  const report: PassReport = { consumer: row.name, partition: row.partition, lease: row.leaseToken!, from: row.position, to: position, handled, failed, parked, queued };
  const commit = () =>
    runWrite(ctx, async (op) => {
      const current = await op.get<ConsumerRow>('consumer', row.id);
      if (!current || current.leaseToken !== row.leaseToken) return false;
      const released = without(current, 'leaseOwner', 'leaseUntil', 'leaseToken');
      await op.update('consumer', current, {
        ...released,
        version: current.version + 1,
        updatedAt: op.now,
        // Never back: a type change (or expireHeld, after this lease ran out) may have moved it meanwhile.
        position: Math.max(position, current.position),
        lastRunAt: row.updatedAt, // when it began (its claim)
        handled: current.handled + handled.length,
        failures: current.failures + failed.length + parked.length,
        parkedTotal: current.parkedTotal + parked.length,
        ...(lastError ? { lastError } : current.lastError ? { lastError: current.lastError } : {}),
      } as ConsumerRow);
      // A replay may have inserted or reset a backlog row this pass also queued or tried: the replay
      // wins (its row stays pending, due now), so a replay never makes the pass's commit fail.
      const touched = [...inserts, ...updates.map((u) => u.before), ...deletes];
      const stored = new Map<string, BacklogRow>();
      for (const entry of touched.length ? await op.getMany<BacklogRow>('consumerBacklog', touched.map((e) => e.id)) : []) if (entry) stored.set(entry.id, entry);
      const unchanged = (entry: BacklogRow) => stored.get(entry.id)?.version === entry.version;
      const fresh = inserts.filter((entry) => !stored.has(entry.id));
      if (fresh.length) await insertMany(op, 'consumerBacklog', fresh);
      for (const { before, after } of updates) if (unchanged(before)) await op.update('consumerBacklog', before, after);
      for (const entry of deletes) if (unchanged(entry)) await op.remove('consumerBacklog', entry);
      return true;
    });
  // A concurrent write between the reads and the writes (PostgreSQL) runs the commit again: it reads
  // and merges again (`runWrite`).
  const committed = await commit().catch(async (error: unknown) => {
    // Never leave the partition leased to a pass that is gone: another worker may take it right away.
    await releaseLease(ctx, row).catch(() => undefined);
    throw error;
  });
  if (!committed) return { claimed: true, progressed: false, lostLease: true };
  return { claimed: true, progressed, lostLease: false, ...(nextRetryAt !== undefined ? { nextRetryAt } : {}), report };
}

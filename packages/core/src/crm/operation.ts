import { CrmError, notFound } from '../errors/crm-error.js';
import { parseId } from './parse-input.js';
import { later, toTimestamp } from '../domain/clock.js';
import { CHILD_ENTITIES, PARENT_LINKS, PARENT_TYPES, differsFrom, parentAccessChanged, parentAccessOf, primaryParent, withAccess, type ParentType } from '../domain/parent-access.js';
import type { AccessAction, AccessGuard } from './access-guard.js';
import type { CrmEvent, CrmEventMap, CrmEventName } from '../events/event-map.js';
import type { Filter, QuerySpec } from '../query/query-spec.js';
import { refKey, type RecordBase } from '../schema/record.js';
import type { EventLogEntry } from '../schema/event.js';
import { deepFreeze } from '../storage/deep-freeze.js';
import type { Row, StorageTx, WriteOp } from '../storage/storage-adapter.js';
import { EXTERNAL_ENTITIES, withExternalKeys } from '../domain/external-keys.js';
import { CONFIG_LOCK, type CrmContext } from './context.js';
import { markRace, retryRaces } from './retry-concurrent.js';

/**
 * The parents (`deal:<id>` …) each transaction wrote: their row lock orders a concurrent owner change, so
 * `withParentAccess` (crm/feature-writes.ts) takes no key of them. Per transaction, not per operation: an automation run's actions
 * are operations in one transaction.
 */
export const wroteParents = new WeakMap<StorageTx, Set<string>>();

/** The `nextSequence` counter of the change feed. */
export const FEED_SEQUENCE = 'feed';

/** A record's shard, 0–255 (FNV-1a of its id): consumers partition the feed by shard. */
export function shardOf(subjectId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < subjectId.length; i++) h = Math.imul(h ^ subjectId.charCodeAt(i), 0x01000193);
  return (h >>> 0) & 0xff;
}

/** A record an event concerns: `{ type: 'deal', id }`. */
export interface EventRef {
  readonly type: string;
  readonly id: string;
}

/**
 * One unit of work inside a storage transaction: reads, versioned writes and the events to append.
 * Every write of an operation and its event-log entries commit together or not at all.
 */
export class Operation {
  readonly nowMs: number;
  readonly events: CrmEvent[] = [];
  /** Events delivered through the change feed only (not emitted by this process after commit). */
  readonly feedOnly = new Set<string>();
  private nowText: string | undefined;
  /** The access rules of the principal a view acts for; absent on the trusted crm and without a policy. */
  guard: AccessGuard | undefined;
  /** Final state of the rows this operation wrote (`null` = deleted), kept only when views listen to events or sync records changes. */
  readonly written: Map<string, Row | null> | undefined;

  constructor(
    readonly ctx: CrmContext,
    readonly tx: StorageTx,
  ) {
    this.nowMs = ctx.clock.now();
    this.written = ctx.bus.wantsRows || ctx.hooks.sync ? new Map() : undefined;
  }

  /** The operation's time as a canonical timestamp (formatted on first use: reads rarely need it). */
  get now(): string {
    return (this.nowText ??= toTimestamp(this.nowMs));
  }

  get tenantId(): string {
    return this.ctx.tenantId;
  }

  newId(entity: string): string {
    return this.ctx.newId(entity, this.nowMs);
  }

  async get<T extends RecordBase>(entity: string, id: string): Promise<T | undefined> {
    return (await this.tx.getMany(entity, this.ctx.tenantId, [id]))[0] as T | undefined;
  }

  async getMany<T extends RecordBase>(entity: string, ids: readonly string[]): Promise<(T | undefined)[]> {
    return (await this.tx.getMany(entity, this.ctx.tenantId, ids)) as (T | undefined)[];
  }

  /**
   * Reads the record a call is about, or throws `NOT_FOUND` — the one gate every id a caller names as
   * the subject of a call passes (access control narrows it: a record the principal may not read
   * answers `NOT_FOUND` as well).
   */
  async require<T extends RecordBase>(entity: string, id: string): Promise<T> {
    // One async frame per read (not get → require → requireReadable …): point reads are most of a write's calls.
    const row = (await this.tx.getMany(entity, this.ctx.tenantId, [id]))[0] as T | undefined;
    if (!row) throw notFound(entity, id);
    return row;
  }

  /**
   * Reads a record the acting principal may read: `NOT_FOUND` when it does not exist or lies outside
   * the principal's read scope (a view never learns that a hidden record exists).
   */
  requireReadable<T extends RecordBase>(entity: string, id: string): Promise<T> {
    return this.requireFor<T>(entity, id);
  }

  /** Reads a record the principal may read and act on: `NOT_FOUND` outside its read scope, `FORBIDDEN` outside the action's. */
  async requireFor<T extends RecordBase>(entity: string, id: string, action?: AccessAction): Promise<T> {
    const row = (await this.tx.getMany(entity, this.ctx.tenantId, [id]))[0] as T | undefined;
    if (!row || (this.guard && !this.guard.canRead(entity, row))) throw notFound(entity, id);
    if (action) this.guard?.authorize(entity, action, row);
    return row;
  }

  /** `filter` and-ed with the principal's read filter of `entity` (unchanged without a guard). */
  scoped(entity: string, filter: Filter | undefined): Filter | undefined {
    const scope = this.guard?.readFilter(entity);
    if (!scope) return filter;
    return filter ? { op: 'and', filters: [scope, filter] } : scope;
  }

  /**
   * The gate for reads of a record's history (timeline, stage history), which outlives the record:
   * the stored record, or the state it had when it was removed (from its `<entity>.removed` event).
   * Throws `NOT_FOUND` when the tenant never had such a record.
   */
  async requireHistory<T extends RecordBase>(entity: string, id: string): Promise<{ readonly record: T; readonly removed: boolean }> {
    const row = await this.get<T>(entity, id);
    if (row) return { record: row, removed: false };
    const { rows } = await this.tx.query('event', this.ctx.tenantId, {
      filter: { op: 'and', filters: [{ op: 'eq', field: 'subjectId', value: id }, { op: 'eq', field: 'type', value: `${entity}.removed` }] },
      sort: [{ field: 'at', direction: 'desc' }, { field: 'id', direction: 'desc' }],
      limit: 1,
    });
    const last = (rows[0] as unknown as EventLogEntry | undefined)?.data[entity] as T | undefined;
    if (!last) throw notFound(entity, id);
    return { record: last, removed: true };
  }

  /**
   * `requireHistory` for a principal: the record must be readable now; a removed one only by those who
   * read every record of its kind (its owner and shares are gone with it). `NOT_FOUND` otherwise.
   */
  async requireReadableHistory<T extends RecordBase>(entity: string, id: string): Promise<{ readonly record: T; readonly removed: boolean }> {
    const history = await this.requireHistory<T>(entity, id);
    if (this.guard && (history.removed ? !this.guard.reachesAll(entity, 'read') : !this.guard.canRead(entity, history.record))) throw notFound(entity, id);
    return history;
  }

  async query<T extends RecordBase>(entity: string, spec: QuerySpec): Promise<{ rows: T[]; nextCursor?: string }> {
    return (await this.tx.query(entity, this.ctx.tenantId, spec)) as unknown as { rows: T[]; nextCursor?: string };
  }

  /*
   * Records written are frozen in place (they are crmkit's own objects: inputs were copied by
   * `parseInput`), so the record returned to the caller, the event payload and the stored row can be
   * one object that nobody can change, and adapters store it without copying.
   */

  /**
   * Writes through the transaction; every write of an operation passes here, so that a conflict with a
   * concurrent transaction is known as one (`markRace`) and `runWrite` runs the operation again.
   */
  write(entity: string, ops: readonly WriteOp[]): Promise<void> {
    return this.tx.write(entity, this.ctx.tenantId, ops).catch((error: unknown) => Promise.reject(markRace(error)));
  }

  async insert<T extends RecordBase>(entity: string, written: T): Promise<T> {
    const record = EXTERNAL_ENTITIES.has(entity) ? withExternalKeys(written) : written;
    await this.write(entity, [{ type: 'insert', row: deepFreeze(record) as unknown as Row }]).catch((e: unknown) => this.conceal('insert', e));
    this.written?.set(`${entity}:${record.id}`, record as unknown as Row);
    return record;
  }

  /**
   * Writes `next` if the stored row is still at `previous.version`; a no-op when nothing changed.
   * When a lead, contact, company or deal changes owner or shares, the copies its tasks, activities
   * and stage visits keep (`parentOwner`, `parentShareKeys`) follow in the same transaction. The
   * parent's key (`<entity>:<id>`) is taken exclusively first, before the row: a child written
   * concurrently holds it shared from before it read the parent (`withParentAccess`), so one of the
   * two waits for the other's commit and sees its write — the child's query here, or the new owner there.
   */
  async update<T extends RecordBase>(entity: string, previous: T, revised: T): Promise<T> {
    if (revised === previous) return previous;
    // `updatedAt` never goes back: an operation run at an earlier time (a synced device's command) after newer writes.
    const updatedAt = later(previous.updatedAt, revised.updatedAt);
    const dated = updatedAt === revised.updatedAt ? revised : { ...revised, updatedAt };
    const next = EXTERNAL_ENTITIES.has(entity) ? withExternalKeys(dated) : dated;
    const key = `${entity}:${next.id}`;
    const parent = (PARENT_TYPES as readonly string[]).includes(entity);
    const follow = parent && parentAccessChanged(previous, next);
    if (follow) await this.tx.lockKeys(this.tenantId, [key]);
    await this.write(entity, [{ type: 'update', row: deepFreeze(next) as unknown as Row, expectedVersion: previous.version }]).catch((e: unknown) => this.conceal('update', e));
    this.written?.set(key, next as unknown as Row);
    if (parent) wroteParents.set(this.tx, (wroteParents.get(this.tx) ?? new Set()).add(key));
    if (follow) await this.followParent(entity as ParentType, next);
    return next;
  }

  /**
   * Rethrows a write's error; in a view, without the id or version of a conflicting row it may not read.
   * @internal (`insertMany` uses it)
   */
  async conceal(write: 'insert' | 'update', error: unknown): Promise<never> {
    const hooks = this.ctx.hooks.access;
    // A concealed taken id is still a race (`markRace`: no key, no expected version), as its original was.
    throw this.guard && hooks ? markRace(await hooks.concealConflict(this.guard, write, error, (e, ids) => this.tx.getMany(e, this.ctx.tenantId, ids) as never)) : error;
  }

  async remove(entity: string, record: RecordBase): Promise<void> {
    await this.write(entity, [{ type: 'delete', id: record.id, expectedVersion: record.version }]);
    this.written?.set(`${entity}:${record.id}`, null);
  }

  /** Copies a parent's owner and shares to the children that follow it (paged; no events: bookkeeping). */
  private async followParent(type: ParentType, parent: RecordBase): Promise<void> {
    const access = parentAccessOf(type, parent);
    for (const entity of CHILD_ENTITIES) {
      if (entity === 'stageVisit' && type !== 'deal') continue;
      let after: string | undefined;
      do {
        const page = await this.query<RecordBase>(entity, {
          filter: { op: 'eq', field: PARENT_LINKS[type], value: parent.id },
          sort: [{ field: 'id' }],
          limit: 500,
          ...(after ? { after } : {}),
        });
        for (const child of page.rows) {
          const followed = primaryParent(child);
          if (followed?.type !== type || followed.id !== parent.id || !differsFrom(child, access)) continue;
          await this.update(entity, child, { ...withAccess(child, access), version: child.version + 1, updatedAt: this.now });
        }
        after = page.nextCursor;
      } while (after);
    }
  }

  /**
   * Records a domain event: appended to the event log with this operation's writes, emitted to
   * handlers after commit. `refs` are the records whose timelines show it (the subject is added).
   */
  record<K extends CrmEventName>(type: K, subject: EventRef, data: CrmEventMap[K], refs: readonly (EventRef | undefined)[] = []): void {
    const keys = [refKey(subject)];
    for (const ref of refs) {
      if (!ref || !ref.id) continue;
      const key = refKey(ref);
      if (!keys.includes(key)) keys.push(key);
    }
    const entry: EventLogEntry = {
      id: this.newId('event'),
      tenantId: this.ctx.tenantId,
      version: 1,
      createdAt: this.now,
      updatedAt: this.now,
      type,
      at: this.now,
      subjectType: subject.type,
      subjectId: subject.id,
      refs: keys,
      data: data as unknown as Record<string, unknown>,
      ...(this.ctx.actor ? { actorId: this.ctx.actor.userId } : {}),
      ...(this.ctx.cause ? { cause: { ...this.ctx.cause, chain: [...this.ctx.cause.chain] } } : {}),
    };
    this.events.push(entry as unknown as CrmEvent);
  }

  /**
   * A first event position reserved early, which takes the feed's lock before the flush (an automation
   * rule's `since` is read under it): the flush gives it to the first event and continues from it. Whoever
   * reserves it must record an event.
   */
  declare feedFrom: number | undefined;

  /**
   * Appends the recorded events to the log, in chunks (all of them: chunks only bound one write call),
   * with their feed positions. Called once, at the end of the operation: reserving positions holds the
   * tenant's feed counter until commit (so the feed is in commit order), and reserving last keeps that
   * hold short. Events are frozen: every handler receives the same object. Then device sync records
   * the change positions of the rows written (`hooks.sync`), in this transaction: a race's re-run of
   * the whole operation records them once.
   */
  async flushEvents(): Promise<void> {
    const count = this.events.length;
    if (count) {
      // After an early reservation the counter is this transaction's: the rest follow it.
      let position = this.feedFrom ?? (await this.tx.nextSequence(FEED_SEQUENCE, this.ctx.tenantId, count));
      if (this.feedFrom && count > 1) await this.tx.nextSequence(FEED_SEQUENCE, this.ctx.tenantId, count - 1);
      for (const event of this.events) {
        const mutable = event as { position?: number; shard?: number };
        mutable.position = position++;
        mutable.shard = shardOf(event.subjectId);
      }
      for (let i = 0; i < count; i += 1000) {
        const chunk = this.events.slice(i, i + 1000);
        await this.write('event', chunk.map((e) => ({ type: 'insert' as const, row: deepFreeze(e) as unknown as Row })));
      }
    }
    if (this.written?.size && this.ctx.hooks.sync) await this.ctx.hooks.sync.recordChanges(this.tx, this.written, this.now);
  }
}

/**
 * Runs a write operation: one read-write transaction, events appended in it, handlers notified
 * only after it committed. When a write of it met a transaction that committed first (PostgreSQL's
 * writers overlap; SQLite's and memory's run one at a time), the whole operation runs again
 * (`retryRaces`): a call never fails with a `CONFLICT` over a version it did not pass, or over a row it
 * never named (a stage visit, a task following its deal). A `version` the caller passed is checked
 * against each run's read, so a stale one still fails at once. `config`: the operation changes the
 * tenant's configuration (custom fields, calendar, access …); it takes the configuration lock first
 * (`CONFIG_LOCK`).
 */
export async function runWrite<T>(ctx: CrmContext, fn: (op: Operation) => Promise<T>, config?: boolean): Promise<T> {
  ctx.assertOpen();
  let guard: AccessGuard | undefined;
  const attempt = () => ctx.storage
    .transaction('rw', async (tx) => {
      const op = await openOperation(ctx, tx, config ? 'config' : 'write');
      guard = op.guard;
      const value = await fn(op);
      await op.flushEvents();
      return { result: value, events: op.events, rows: op.written, feedOnly: op.feedOnly };
    })
    .catch(async (error: unknown) => {
      const hooks = ctx.hooks.access;
      throw guard && hooks ? await hooks.revealConflict(guard, error, (e, ids) => ctx.storage.transaction('r', (tx) => tx.getMany(e, ctx.tenantId, ids)) as never) : error;
    });
  // Inside a transaction someone else owns (an automation run's), a race is that owner's to run again.
  const { result, events, rows, feedOnly } = await (ctx.bound ? attempt() : retryRaces(ctx, attempt));
  ctx.bus.emitAll(feedOnly.size ? events.filter((event) => !feedOnly.has(event.id)) : events, rows);
  return result;
}

/**
 * Reads one record by a caller's id (checked for `context`), or rejects with `VALIDATION` or
 * `NOT_FOUND`: one storage read outside any transaction where the adapter offers it
 * (`StorageAdapter.getMany`), else a read transaction. Services return it as is: one async frame per
 * point read, not two.
 */
export async function readRecord<T extends RecordBase>(ctx: CrmContext, entity: string, id: unknown, context: string): Promise<T> {
  const checked = parseId(id, context);
  ctx.assertOpen();
  // A view needs its access guard (or, without access(), the policy check), read in a transaction.
  if (ctx.principal) return runRead(ctx, (op) => op.requireReadable<T>(entity, checked));
  const storage = ctx.storage;
  const row = (storage.getMany ? await storage.getMany(entity, ctx.tenantId, [checked]) : await storage.transaction('r', (tx) => tx.getMany(entity, ctx.tenantId, [checked])))[0];
  if (!row) throw notFound(entity, checked);
  return row as unknown as T;
}

/**
 * Runs a read-only operation in one read transaction. Its configuration check is deferred (sent with
 * its reads); when that finds the caches were stale, the result is dropped and the operation runs
 * again, with the check awaited.
 */
export async function runRead<T>(ctx: CrmContext, fn: (op: Operation) => Promise<T>): Promise<T> {
  ctx.assertOpen();
  const stale = Symbol('stale');
  const outcome = await ctx.storage.transaction('r', async (tx): Promise<T | typeof stale> => {
    ctx.revision.defer(tx);
    let result: T;
    try {
      result = await fn(await openOperation(ctx, tx));
    } catch (error) {
      // An error raised against stale configuration (an unknown custom field …) is not the answer either.
      if (!(await ctx.revision.settle(tx))) return stale;
      throw error;
    }
    return (await ctx.revision.settle(tx)) ? result : stale;
  });
  if (outcome !== stale) return outcome;
  return ctx.storage.transaction('r', async (tx) => fn(await openOperation(ctx, tx)));
}

/**
 * Starts an operation; in a view, with the principal's access guard (loaded once per operation, from a
 * cache). A configuration change takes the configuration lock exclusively; a view's write takes it
 * shared, before the guard reads the configuration: a change that revokes a right then waits for the
 * writes that started under it, and a write that starts during the change sees the change.
 */
async function openOperation(ctx: CrmContext, tx: StorageTx, mode?: 'write' | 'config'): Promise<Operation> {
  const op = new Operation(ctx, tx);
  const view = ctx.principal && ctx.hooks.access;
  // Sent before the guard's reads, not awaited first: on a pipelined connection they share a round trip.
  const locked = mode === 'config' || (mode && view) ? tx.lockKeys(ctx.tenantId, [CONFIG_LOCK], mode !== 'config') : undefined;
  if (view) {
    [op.guard] = await Promise.all([ctx.hooks.access!.guard(tx, ctx.principal!), locked]);
    if (ctx.view) ctx.view.guard = op.guard;
  } else {
    await locked;
    // A view of a crm without access() on a tenant with a policy fails closed: the policy row is read
    // once per configuration revision (`ensureFresh` resets `unpoliced` when another process changed it).
    const revision = ctx.revision;
    if (ctx.principal && (await revision.ensureFresh(tx), !revision.unpoliced)) {
      if ((await tx.getMany('setting', ctx.tenantId, ['accessPolicy']))[0]?.value) {
        throw new CrmError('FORBIDDEN', 'The tenant has an access policy: add access()', { action: 'crm.as' });
      }
      revision.unpoliced = true;
    }
  }
  return op;
}

import type { Clock } from '../domain/clock.js';
import type { Random } from '../domain/random.js';
import type { EventBus } from './event-bus.js';
import type { StorageAdapter, StorageTx } from '../storage/storage-adapter.js';
import type { FeatureHooks } from './feature-hooks.js';
import type { Logger } from './logger.js';
import type { RecordBase } from '../schema/record.js';
import type { AccessGuard, Principal } from './access-guard.js';
import type { PhoneNumberParser } from '../domain/phone-numbers.js';

/** Who is acting: recorded on every event. */
export interface Actor {
  readonly userId: string;
}

/** Everything a service (and a feature) needs, bound to one tenant. */
export interface CrmContext {
  readonly storage: StorageAdapter;
  readonly tenantId: string;
  readonly actor: Actor | undefined;
  readonly clock: Clock;
  readonly random: Random;
  readonly newId: (entity: string, nowMs: number) => string;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly defaultCurrency: string;
  /** Tells caches of configuration (custom fields, calendar) that another process changed it. */
  readonly revision: ConfigRevision;
  /** Extension points filled by the crm's features (see `CrmFeature`). */
  readonly hooks: FeatureHooks;
  /** The principal a view acts for (`crm.as`); absent on the crm itself, which is trusted. */
  readonly principal?: Principal;
  /** A view's state: the access guard its latest operation used (for projecting results). */
  readonly view?: { guard: AccessGuard | undefined };
  /**
   * Reads phone numbers into E.164 (`createCrm({ phoneNumbers })`); absent, the duplicates feature
   * uses its built-in parser of international spellings.
   */
  readonly phoneParser?: PhoneNumberParser;
  /**
   * Set when `storage` runs every transaction inside one its caller owns (an automation run's): a write
   * that met a concurrent transaction cannot run again on its own there — the owner runs the whole again.
   */
  readonly bound?: boolean;
  /** Rejects calls after `crm.close()`. */
  assertOpen(): void;
  /**
   * A view of the crm (every service and feature) for `principal` over another storage and event bus:
   * features that must run services inside one of their own transactions (automation runs) pass a
   * storage bound to it and a bus that holds events until it commits. Returns the view (a `Crm` with
   * the features; typed loosely here so the kernel types do not depend on the services). `newId`
   * replaces the id generator (device sync runs a command with ids derived from its seed); `clock`
   * the operations' time (device sync runs a command at the time the user ran it: every timestamp it
   * writes and every rule that reads "now" use it).
   */
  readonly scope?: (over: { readonly storage: StorageAdapter; readonly bus: EventBus; readonly cause?: EventCause; readonly bound?: boolean; readonly newId?: (entity: string, nowMs: number) => string; readonly clock?: Clock }, principal: Principal | undefined) => object;
  /**
   * What caused the writes made through this context (an automation run's chain, handed on by a host
   * handler): every event it records carries it as `cause`, so loop protection and depth limits see
   * the whole chain. Absent for a person's or a system's own change.
   */
  readonly cause?: EventCause;
}

/** The chain an event belongs to (automation stamps it; see `@crmkit/core/automations`). */
export interface EventCause {
  readonly runId: string;
  readonly ruleId: string;
  readonly depth: number;
  readonly chain: readonly string[];
}

/** Id of the setting row whose version changes with every configuration change (definitions, calendar, task types). */
export const CONFIG_REVISION = 'configRevision';

/**
 * The keyed lock (`StorageTx.lockKeys`) of a tenant's configuration: changes hold it exclusively (run
 * with `runWrite(ctx, fn, true)`, which takes it first), a view's writes hold it shared (see
 * `openOperation`). So two changes never race on the internal rows they share (the revision, the
 * access settings), and a change waits for the writes of views that started under the old rules.
 */
export const CONFIG_LOCK = 'config';

/**
 * Tells caches whether the tenant's configuration changed since they loaded it — also when another
 * process or connection changed it, which `onChange` does not always report. It reads one small row,
 * once per transaction — or nothing, when the adapter's `changeMark('setting')` shows no setting was
 * committed since a snapshot in which the row had the version seen (SQLite). A read operation may `defer` that check: the row is then read alongside its
 * other statements (one round trip on a pipelined connection) and `settle` says afterwards whether the
 * caches it used were current; when not, the operation's result is dropped and it runs again.
 */
export class ConfigRevision {
  private seen: number | undefined;
  /** The adapter's `changeMark('setting')` of a snapshot in which the revision was `seen`. */
  private mark: string | undefined;
  private readonly checked = new WeakMap<StorageTx, { read: Promise<number>; expected: number; mark: string | undefined } | true>();
  private readonly deferred = new WeakSet<StorageTx>();
  private readonly caches: { invalidate(): void }[] = [];
  /** The tenant was seen without an access policy (checked by views of a crm without access()); dropped with the caches. */
  unpoliced = false;

  constructor(private readonly tenantId: string) {}

  register(cache: { invalidate(): void }): void {
    this.caches.push(cache);
  }

  /** Lets `ensureFresh` in the read-only `tx` start its check without waiting for it (see `settle`). */
  defer(tx: StorageTx): void {
    this.deferred.add(tx);
  }

  /** Drops every registered cache when the stored revision differs from the one they were loaded at. */
  async ensureFresh(tx: StorageTx): Promise<void> {
    if (this.checked.has(tx)) return;
    this.checked.set(tx, true);
    // No setting committed since a snapshot that saw `seen` (SQLite): nothing to read. (`mark` is
    // only set with `seen`.)
    const mark = tx.changeMark?.('setting');
    if (mark !== undefined && mark === this.mark) return;
    const read = tx.getMany('setting', this.tenantId, [CONFIG_REVISION]).then(([row]) => row?.version ?? 0);
    if (this.seen !== undefined && this.deferred.has(tx)) {
      read.catch(() => undefined); // `settle` reports a failure
      this.checked.set(tx, { read, expected: this.seen, mark });
      return;
    }
    const version = await read;
    if (version !== this.seen) this.drop(version);
    this.mark = mark;
  }

  /**
   * Waits for a deferred check of `tx`.
   *
   * @returns false when the caches `tx` used may not match its snapshot's configuration (they are then
   *   dropped; the caller runs its operation again), true otherwise.
   */
  async settle(tx: StorageTx): Promise<boolean> {
    const check = this.checked.get(tx);
    if (check === undefined || check === true) return true;
    const version = await check.read;
    if (version === check.expected && this.seen === check.expected) {
      this.mark = check.mark;
      return true;
    }
    // Reloaded at the next transaction's (awaited) check.
    this.drop(undefined);
    return false;
  }

  private drop(version: number | undefined): void {
    for (const cache of this.caches) cache.invalidate();
    this.unpoliced = false;
    this.seen = version;
    this.mark = undefined;
  }
}

/** A stored tenant setting. */
export interface SettingRecord<T> extends RecordBase {
  readonly key: string;
  readonly value: T;
}


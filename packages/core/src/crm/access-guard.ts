import type { CrmEvent } from '../events/event-map.js';
import type { Filter, QuerySpec, SortSpec } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { Row, StorageAdapter, StorageTx } from '../storage/storage-adapter.js';

/**
 * Who a view of a crm acts for (`crm.as(principal)`). `roles` and `teamIds`, when given, replace the
 * ones the tenant's directory lists for the user (hosts that resolve them per request pass them here).
 */
export interface Principal {
  /** The user as the host knows it: recorded as `actorId` on every event the view causes. */
  readonly userId: string;
  /** Role names of the access policy; default: the directory's, else the policy's `defaultRoles`. */
  readonly roles?: readonly string[];
  /** Teams the user belongs to; default: the directory's. */
  readonly teamIds?: readonly string[];
}

/** What a principal may do to records: reading, the writes, the funnel moves, conversion, assignment and sharing. */
export type AccessAction = 'read' | 'create' | 'update' | 'delete' | 'advance' | 'postpone' | 'win' | 'lose' | 'reopen' | 'convert' | 'assign' | 'share';

/**
 * The access rules of one principal, compiled from the tenant's policy and directory, as an operation
 * sees them. Core operations consult it; the `access()` feature (`@crmkit/core/access`) builds it.
 * Every method is synchronous: the rules are loaded once per operation (from a cache).
 */
export interface AccessGuard {
  readonly principal: Principal;
  /** The filter every read of `entity` is and-ed with; `undefined` when every row is readable. */
  readFilter(entity: string): Filter | undefined;
  /** Whether the principal may read this stored row (the read filter's verdict on it). */
  canRead(entity: string, row: RecordBase): boolean;
  /**
   * Reads one page (`spec` without the scope; `query` runs a storage query) where the guard has a
   * cheaper way than `readFilter` with the same rows, order and cursor; `undefined` when it has none.
   */
  readPage?<T extends RecordBase>(entity: string, spec: QuerySpec, query: (spec: QuerySpec) => Promise<{ rows: T[]; nextCursor?: string }>): Promise<{ rows: T[]; nextCursor?: string }> | undefined;
  /**
   * Refuses an action on a whole entity (configuration, reports) with `FORBIDDEN`.
   *
   * @throws CrmError `FORBIDDEN` when the policy grants no scope for it.
   */
  require(entity: string, action: AccessAction): void;
  /**
   * Refuses an action on a stored record the principal may read.
   *
   * @throws CrmError `FORBIDDEN` with the rule in `details` when the row is outside the action's scope.
   */
  authorize(entity: string, action: AccessAction, row: RecordBase): void;
  /**
   * The `WITH CHECK` of PostgreSQL row security: refuses a record a write would leave outside the
   * writer's scope for `action` (a new record, or the new version of a changed one).
   *
   * @throws CrmError `FORBIDDEN`.
   */
  checkWritten(entity: string, action: AccessAction, before: RecordBase | undefined, after: RecordBase): void;
  /**
   * Refuses filters, sorts, groupings and metrics over fields the principal may not read.
   *
   * @throws CrmError `FORBIDDEN` naming the fields.
   */
  checkReadFields(entity: string, fields: Iterable<string>, context: string): void;
  /**
   * Refuses inputs that write fields the principal may not write (field paths such as `value`, `custom.budget`).
   *
   * @throws CrmError `FORBIDDEN` naming the fields.
   */
  checkWriteFields(entity: string, fields: Iterable<string>, context: string): void;
  /** Whether a field path (`value.amount`, `custom.budget`) of `entity` is readable. */
  readable(entity: string, field: string): boolean;
  /** Whether the policy restricts the fields of `entity` for this principal at all. */
  hasFieldRules(entity: string): boolean;
  /** A record without the fields the principal may not read (the same object when nothing is hidden). */
  project<T extends object>(entity: string, record: T): T;
  /** Whether some role grants `action` on `entity` with any scope. */
  granted(entity: string, action: AccessAction): boolean;
  /** Whether the principal reaches every row of `entity` for `action` (scope `all`). */
  reachesAll(entity: string, action: AccessAction): boolean;
  /** The owners whose rows an action reaches by scope (shares aside); `undefined` for every owner (`all`). */
  ownersFor(entity: string, action: AccessAction): readonly string[] | undefined;
  /** A pushed-down prefilter of event-log reads (subject types the principal may read something of). */
  eventFilter(): Filter | undefined;
  /**
   * Whether an event is visible: its subject, read now (`subject`), is readable; an event whose subject
   * is gone (`null`/`undefined`) only to a principal that reads every row of the subject's entity; an
   * event whose type states a field the principal may not read (`deal.won`: the status) to none.
   */
  canSeeEvent(event: CrmEvent, subject: RecordBase | null | undefined): boolean;
  /** An event with its payload field-projected and its `refs` cut to those `refVisible` accepts. */
  projectEvent(event: CrmEvent, refVisible: (key: string) => boolean): CrmEvent;
}

/** Reads one raw page of the event log (an operation's `query('event', …)`). */
export type EventPageQuery = (spec: QuerySpec) => Promise<{ rows: readonly RecordBase[]; nextCursor?: string }>;

/** What the access feature plugs into core (`FeatureHooks.access`). */
export interface AccessHooks {
  /**
   * The guard of a principal for one operation, read through `tx` (cached per policy revision and
   * principal). `undefined` when the tenant has no policy: views then act as trusted users.
   */
  guard(tx: StorageTx, principal: Principal): Promise<AccessGuard | undefined>;
  /**
   * The committed events a view's `on` handlers may see, field-projected. `rows` holds the final state
   * of the rows the operation wrote (`null` for deleted), when known.
   */
  visibleEvents(storage: StorageAdapter, principal: Principal, events: readonly CrmEvent[], rows: ReadonlyMap<string, Row | null> | undefined): Promise<CrmEvent[]>;
  /**
   * Judges stored events for a principal, keeping their order: each visible event field-projected,
   * each hidden one `undefined` (the subject read now decides; `load` reads rows by id).
   */
  judgeEvents(
    guard: AccessGuard,
    events: readonly CrmEvent[],
    load: (entity: string, ids: readonly string[]) => Promise<readonly (RecordBase | undefined)[]>,
  ): Promise<(CrmEvent | undefined)[]>;
  /**
   * Reads a page of the event log a view may see: events are judged by their subject as it is now,
   * so the feature keeps reading with the cursor until the page is full (`limit` is honoured).
   */
  readEvents(
    guard: AccessGuard,
    query: EventPageQuery,
    load: (entity: string, ids: readonly string[]) => Promise<readonly (RecordBase | undefined)[]>,
    filter: Filter | undefined,
    sort: readonly SortSpec[],
    limit: number,
    after: string | undefined,
  ): Promise<{ items: CrmEvent[]; nextCursor?: string }>;
  /**
   * A write's error as a view may see it: a unique-key conflict or an insert's id collision with a
   * row the principal may not read carries neither that row's id nor its version.
   */
  concealConflict(
    guard: AccessGuard,
    write: 'insert' | 'update',
    error: unknown,
    load: (entity: string, ids: readonly string[]) => Promise<readonly (RecordBase | undefined)[]>,
  ): Promise<unknown>;
  /** After the transaction: a concealed conflict's original when a fresh read finds its holder readable. */
  revealConflict(
    guard: AccessGuard,
    error: unknown,
    load: (entity: string, ids: readonly string[]) => Promise<readonly (RecordBase | undefined)[]>,
  ): Promise<unknown>;
  /**
   * Wraps an API object of a view (a core service or a feature's API, named by `path`) so its results
   * are field-projected; `guardOf` gives the guard the view's last operation used.
   */
  wrap<T extends object>(path: string, api: T, guardOf: () => Promise<AccessGuard | undefined>): T;
}

import { checkWriteVersion, uniqueConflict, type Change, type ChangeBatch, type Row, type StorageSchema, type WriteOp } from '@crmkit/core/storage';
import { sql, type CompiledQuery } from 'kysely';
import { migrate, type MigrationExecutor } from './migrations.js';
import { createPostgresDialect } from './postgres-dialect.js';
import type { PgPool, PgPoolClient, PgQueryConfig } from './postgres-driver.js';
import { columnValues, docText, listValues } from './row-values.js';
import type { SqlFragment } from './sql-dialect.js';
import type { SqlEngine, SqlSession } from './sql-engine.js';
import { statementName } from './statement-name.js';
import { isConnectionError, storageFailure } from './storage-errors.js';
import type { EntityTable, ListTable, ScalarType, StorageLayout } from './table-layout.js';

/** How the PostgreSQL engine connects; validated by `createPostgresStorage` / `createPgliteStorage`. */
export interface PostgresEngineOptions {
  /** A pool the caller owns (left open on close). */
  readonly pool?: PgPool;
  /** Makes the pool the engine owns (ended on close), when `pool` is not given. */
  readonly createPool?: () => Promise<PgPool>;
  readonly schema?: string;
  readonly tablePrefix: string;
  /**
   * How other adapters' commits are learned (default `'notify'`): `'notify'` — commits `pg_notify`
   * their change lists and `watch` LISTENs; `'poll'` — no NOTIFY is sent (CockroachDB and other
   * engines without it), `watch` polls the change feed's watermark (the `feed` sequence of each
   * tenant) every `changePollMs` and reports other adapters' commits as `resync` batches; `false` —
   * neither (PGlite: one in-process connection, which a listener would hold for good).
   */
  readonly externalChanges?: PostgresExternalChanges;
  /** Interval of the `'poll'` mode, ms (default 1000). */
  readonly changePollMs?: number;
}

/** How a PostgreSQL adapter learns of other adapters' commits (see `createPostgresStorage`). */
export type PostgresExternalChanges = 'notify' | 'poll' | false;

/** The sequence that numbers the change feed (core's `FEED_SEQUENCE`): its value is the tenant's feed watermark. */
const FEED_SEQUENCE = 'feed';

/** A statement the server keeps prepared per connection (by name). */
interface Prepared {
  readonly name: string;
  readonly text: string;
}

interface EntityStatements {
  readonly insert: Prepared;
  readonly update: Prepared;
  readonly deleteAny: Prepared;
  readonly deleteVersioned: Prepared;
  readonly version: Prepared;
  readonly getMany: Prepared;
  /** Tables keeping owner keys: every row of the tenant's users (`ANY($2)`, or all without it) restamped. */
  readonly restamp?: { readonly some: Prepared; readonly all: Prepared };
  /** `holders`: for unique lists, the rows of the tenant holding any of some values. */
  readonly lists: readonly { list: ListTable; insert: Prepared; deleteRows: Prepared; holders?: Prepared }[];
}

const sameValues = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v) => b.includes(v));

const RECORD_TYPE: Record<ScalarType, SqlFragment> = { string: sql`text`, number: sql`float8`, boolean: sql`boolean` };

/** NOTIFY payloads stay under PostgreSQL's 8000-byte limit. */
const NOTIFY_PAYLOAD_BYTES = 7000;
/** The value a PostgreSQL unique violation names (`Key (tenant_id, value)=(acme, shop:1) already exists.`). */
function uniqueValueOf(error: unknown): string | undefined {
  const detail = (error as { detail?: unknown }).detail;
  const match = typeof detail === 'string' ? /^Key \([^)]*\)=\([^,]*, (.*)\) already exists\.$/s.exec(detail) : null;
  return match?.[1];
}

/** A transaction with more changes notifies a `resync` instead of listing them. */
const NOTIFY_MAX_CHANGES = 1000;

/** A change as notified: [entity, tenantId, id, 'p' | 'd']. */
type NotifiedChange = [string, string, string, 'p' | 'd'];
/** One NOTIFY payload: a part of one transaction's change list, or a resync marker. */
interface ChangeMessage {
  /** The adapter instance that committed (its own listener skips it). */
  readonly o: string;
  /** The transaction (parts of one transaction share it). */
  readonly b: string;
  /** Part number and count. */
  readonly p: number;
  readonly n: number;
  readonly c?: NotifiedChange[];
  readonly r?: 1;
  /** With `r`: the tenants the transaction changed (listeners of others ignore the resync). */
  readonly t?: string[];
}

const utf8 = new TextEncoder();

/**
 * The PostgreSQL engine on a node-postgres pool.
 *
 * - Each transaction takes its own client from the pool. `r` transactions are
 *   `REPEATABLE READ READ ONLY` (one snapshot, run concurrently); `rw` transactions are READ COMMITTED
 *   and run one at a time per adapter. Across processes, `UPDATE … WHERE version = $n` decides: the
 *   second writer of a row waits for the first one's commit, then matches no row and gets `CONFLICT`.
 * - Inserts of one `write` call go in one statement (`jsonb_to_recordset` over a single JSON
 *   parameter), side-table rows in one `unnest` statement; the hot statements are named, so each
 *   connection parses and plans them once.
 * - Migrations run in one transaction under an advisory lock, so concurrent `open`s serialise.
 * - In the default `'notify'` mode every write transaction sends its change list with `pg_notify`
 *   before it commits (PostgreSQL delivers notifications at commit, in commit order); adapters with
 *   listeners `LISTEN` on a connection of their own and report other adapters' commits as `external`
 *   batches. The `'poll'` mode (engines without NOTIFY) polls the feed watermark instead.
 */
export function createPostgresEngine(options: PostgresEngineOptions): SqlEngine {
  const dialect = createPostgresDialect();
  let pool: PgPool | undefined;
  let statements = new Map<string, EntityStatements>();
  let currentLayout: StorageLayout | undefined;
  let nextSequence: Prepared | undefined;
  // Identifies this adapter's notifications, which its own listener skips.
  // Web Crypto (Node 20 and browsers): the engine also runs in browsers on PGlite.
  const origin = globalThis.crypto.randomUUID();
  let batchCount = 0;
  let channel = '';
  const mode: PostgresExternalChanges = options.externalChanges ?? 'notify';
  // Poll mode: the feed positions this adapter's own transactions reserved (tenant → ranges), so the
  // poller can tell a watermark moved by others from one moved by this adapter alone.
  const own = new Map<string, [number, number][]>();
  let watermark: Prepared | undefined;
  // Pollers running: positions are only remembered while one prunes them.
  let polling = 0;

  const compile = (fragment: SqlFragment): CompiledQuery => fragment.compile(dialect.kysely);
  const prepared = (fragment: SqlFragment): Prepared => {
    const text = compile(fragment).sql;
    // Named by content: adapters sharing a pool (one per schema) never give one name two texts.
    return { name: statementName(text), text };
  };
  // Keyed locks (`lockKeys`): one advisory lock per hash of database, tenant and key, taken in hash order
  // (the subquery's ORDER BY holds for the outer scan), so overlapping sets never deadlock.
  // Shared locks (`pg_advisory_xact_lock_shared`) wait only for exclusive holders of the key.
  const lockOf = (fn: string): Prepared => {
    const text = `SELECT ${fn}(s.h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS s`;
    return { name: statementName(text), text };
  };
  const lockStatement = lockOf('pg_advisory_xact_lock');
  const sharedLockStatement = lockOf('pg_advisory_xact_lock_shared');
  const lockBase = `crmkit:${options.schema ?? ''}:${options.tablePrefix}`;
  /** The advisory lock of a tenant's owner keys: `setOwnerKeys` takes it exclusively, writes of keyed rows shared. */
  const ownerKeysLock = (tenantId: string) => `${lockBase}\u0001${tenantId}\u0002ownerKeys`;

  function prepareEntity(t: EntityTable): EntityStatements {
    const table = dialect.table(t.table);
    const fields = t.columns.map((c, i) => ({ column: c.column, alias: `c${i}`, type: c.type }));
    const recordColumns = [sql`"id" text`, sql`"version" float8`, sql`"doc" jsonb`, ...fields.map((f) => sql`${sql.id(f.alias)} ${RECORD_TYPE[f.type]}`)];
    const targets = ['tenant_id', 'id', 'version', 'doc', ...fields.map((f) => f.column)].map((c) => sql.id(c));
    const values = [sql`${null}::text`, sql`"r"."id"`, sql`"r"."version"`, sql`"r"."doc"`, ...fields.map((f) => sql.ref(`r.${f.alias}`))];
    const key = sql`"tenant_id" = ${null} AND "id" = ${null}`;
    // The owner's key, read in the write itself (after the shared owner-keys lock: see `write`).
    const keys = currentLayout && t.ownerKey ? { column: sql.id(t.ownerKey.column), side: dialect.table(currentLayout.ownerKeys), owner: t.ownerKey.owner } : undefined;
    const keyOf = (tenant: SqlFragment, owner: SqlFragment) => sql`(SELECT "k"."key" FROM ${keys!.side} AS "k" WHERE "k"."tenant_id" = ${tenant} AND "k"."user_id" = ${owner})`;
    const restampWhere = (some: boolean) =>
      sql`UPDATE ${table} AS "t" SET ${keys!.column} = ${keyOf(sql`"t"."tenant_id"`, sql`"t".${sql.id(fields[keys!.owner]!.column)}`)} WHERE "t"."tenant_id" = ${null}${some ? sql` AND "t".${sql.id(fields[keys!.owner]!.column)} = ANY(${null}::text[])` : sql``} AND "t".${keys!.column} IS DISTINCT FROM ${keyOf(sql`"t"."tenant_id"`, sql`"t".${sql.id(fields[keys!.owner]!.column)}`)}`;
    return {
      insert: prepared(
        sql`INSERT INTO ${table} (${sql.join([...targets, ...(keys ? [keys.column] : [])])}) SELECT ${sql.join([...values, ...(keys ? [keyOf(sql`${null}::text`, sql.ref(`r.c${keys.owner}`))] : [])])} FROM jsonb_to_recordset(${null}::jsonb) AS "r"(${sql.join(recordColumns)}) ON CONFLICT ("tenant_id", "id") DO NOTHING RETURNING "id"`,
      ),
      update: prepared(
        sql`UPDATE ${table} SET "version" = ${null}, "doc" = ${null}::jsonb${sql.join(
          fields.map((f) => sql`, ${sql.id(f.column)} = ${null}::${RECORD_TYPE[f.type]}`),
          sql``,
        )}${keys ? sql`, ${keys.column} = ${keyOf(sql`${null}::text`, sql`${null}::text`)}` : sql``} WHERE ${key} AND "version" = ${null}`,
      ),
      ...(keys ? { restamp: { some: prepared(restampWhere(true)), all: prepared(restampWhere(false)) } } : {}),
      deleteAny: prepared(sql`DELETE FROM ${table} WHERE ${key}`),
      deleteVersioned: prepared(sql`DELETE FROM ${table} WHERE ${key} AND "version" = ${null}`),
      version: prepared(sql`SELECT "version" FROM ${table} WHERE ${key}`),
      getMany: prepared(sql`SELECT "id", "doc" FROM ${table} WHERE "tenant_id" = ${null} AND "id" = ANY(${null}::text[])`),
      lists: [...t.lists.values()].map((list) => ({
        list,
        // A unique list ignores only repeats of the same (tenant, value, id): its UNIQUE index must still fire.
        insert: prepared(
          sql`INSERT INTO ${dialect.table(list.table)} ("tenant_id", "value", "id") SELECT ${null}::text, "u"."value", "u"."id" FROM unnest(${null}::text[], ${null}::text[]) AS "u"("value", "id") ON CONFLICT ${list.uniqueIndex ? sql`("tenant_id", "value", "id") ` : sql``}DO NOTHING`,
        ),
        deleteRows: prepared(sql`DELETE FROM ${dialect.table(list.table)} WHERE "tenant_id" = ${null} AND "id" = ANY(${null}::text[])`),
        ...(list.uniqueIndex
          ? { holders: prepared(sql`SELECT "value", "id" FROM ${dialect.table(list.table)} WHERE "tenant_id" = ${null} AND "value" = ANY(${null}::text[])`) }
          : {}),
      })),
    };
  }

  function statementsOf(t: EntityTable): EntityStatements {
    const s = statements.get(t.entity);
    if (!s) throw storageFailure('postgres', 'transaction', `No statements for entity "${t.entity}"`);
    return s;
  }

  /** The NOTIFY payloads of one transaction's changes: parts of a list, or one resync marker. */
  function changePayloads(changes: readonly Change[]): string[] {
    const b = `${origin.slice(0, 8)}:${++batchCount}`;
    const resync = () => {
      const marker = JSON.stringify({ o: origin, b, p: 0, n: 1, r: 1, t: [...new Set(changes.map((c) => c.tenantId))] } satisfies ChangeMessage);
      // Too many tenants to name: a resync for all of them.
      return [utf8.encode(marker).length <= NOTIFY_PAYLOAD_BYTES ? marker : JSON.stringify({ o: origin, b, p: 0, n: 1, r: 1 } satisfies ChangeMessage)];
    };
    if (changes.length > NOTIFY_MAX_CHANGES) return resync();
    const parts: NotifiedChange[][] = [[]];
    let size = 0;
    for (const c of changes) {
      const item: NotifiedChange = [c.entity, c.tenantId, c.id, c.op === 'delete' ? 'd' : 'p'];
      const bytes = utf8.encode(JSON.stringify(item)).length + 1;
      if (size + bytes > NOTIFY_PAYLOAD_BYTES && parts[parts.length - 1]!.length > 0) {
        parts.push([]);
        size = 0;
      }
      if (bytes > NOTIFY_PAYLOAD_BYTES) return resync();
      parts[parts.length - 1]!.push(item);
      size += bytes;
    }
    return parts.map((c, p) => JSON.stringify({ o: origin, b, p, n: parts.length, c } satisfies ChangeMessage));
  }

  /**
   * Listens for other adapters' notifications on a client of its own. Parts of one transaction are
   * joined into one batch. When the connection drops, it reconnects with backoff and then emits one
   * `resync` batch: notifications sent meanwhile are lost, so listeners re-read (the catch-up).
   */
  function listen(emit: (batch: ChangeBatch) => void): () => void {
    let stopped = false;
    let client: PgPoolClient | undefined;
    let retryDelay = 250;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pending: { b: string; changes: Change[]; parts: number } | undefined;
    const receive = (message: { channel?: string; payload?: string }) => {
      if (stopped || message.channel !== channel || !message.payload) return;
      let m: ChangeMessage;
      try {
        m = JSON.parse(message.payload) as ChangeMessage;
      } catch {
        return;
      }
      if (m.o === origin) return;
      if (m.r) return emit({ source: 'external', changes: [], resync: true, ...(Array.isArray(m.t) ? { tenants: m.t } : {}) });
      if (!pending || pending.b !== m.b) pending = { b: m.b, changes: [], parts: 0 };
      for (const [entity, tenantId, id, op] of m.c ?? []) pending.changes.push({ entity, tenantId, id, op: op === 'd' ? 'delete' : 'put' });
      if (++pending.parts === m.n) {
        const changes = pending.changes;
        pending = undefined;
        if (changes.length) emit({ source: 'external', changes });
      }
    };
    const lost = (reconnecting: boolean) => {
      const gone = client;
      client = undefined;
      gone?.release(true);
      if (stopped) return;
      timer = setTimeout(() => void connectListener(reconnecting), retryDelay);
      (timer as { unref?: () => void }).unref?.();
      retryDelay = Math.min(retryDelay * 2, 30_000);
    };
    const connectListener = async (reconnecting: boolean) => {
      timer = undefined;
      if (stopped || !pool) return;
      let next: PgPoolClient;
      try {
        next = await pool.connect();
      } catch {
        return lost(reconnecting);
      }
      if (stopped) return next.release();
      client = next;
      next.on?.('notification', receive);
      next.on?.('error', () => {
        if (client === next) lost(true);
      });
      try {
        await next.query({ text: `LISTEN "${channel}"` });
      } catch {
        if (client === next) lost(true);
        return;
      }
      retryDelay = 250;
      // Whatever was committed while no connection listened is unknown: catch up by re-reading.
      if (reconnecting) emit({ source: 'external', changes: [], resync: true });
    };
    void connectListener(false);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const held = client;
      client = undefined;
      if (held) {
        held
          .query({ text: `UNLISTEN "${channel}"` })
          .then(
            () => held.release(),
            () => held.release(true),
          );
      }
    };
  }

  /**
   * The `'poll'` mode's watcher: every `changePollMs`, one statement reads each tenant's feed
   * watermark; when one moved past positions this adapter did not reserve itself, another adapter
   * committed, and one `resync` batch naming those tenants tells their listeners to re-read (no change
   * list exists without NOTIFY; listeners of other tenants ignore it). Writes that append no event
   * (consumer checkpoints, leases) do not move the watermark.
   */
  function poll(emit: (batch: ChangeBatch) => void): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let seen: Map<string, number> | undefined;
    polling++;
    const tick = async () => {
      timer = undefined;
      if (stopped || !pool || !watermark) return;
      const foreign: string[] = [];
      try {
        const client = await pool.connect();
        let rows: unknown[][];
        try {
          rows = (await client.query({ name: watermark.name, text: watermark.text, values: [FEED_SEQUENCE], rowMode: 'array' })).rows as unknown[][];
          client.release();
        } catch (error) {
          client.release(isConnectionError(error) ? true : undefined);
          throw error;
        }
        const next = new Map(rows.map(([tenant, value]) => [tenant as string, Number(value)]));
        if (seen) {
          for (const [tenant, value] of next) {
            const before = seen.get(tenant) ?? 0;
            if (value <= before) continue;
            const ranges = own.get(tenant) ?? [];
            let mine = 0;
            for (const [from, to] of ranges) mine += Math.max(0, Math.min(to, value) - Math.max(from, before + 1) + 1);
            if (mine < value - before) foreign.push(tenant);
            const left = ranges.filter(([, to]) => to > value);
            if (left.length) own.set(tenant, left);
            else own.delete(tenant);
          }
        }
        seen = next;
      } catch {
        // Closed or unreachable: the next round tries again; a gap is caught up by the watermark.
      }
      if (foreign.length && !stopped) emit({ source: 'external', changes: [], resync: true, tenants: foreign });
      if (!stopped) {
        timer = setTimeout(() => void tick(), options.changePollMs ?? 1000);
        (timer as { unref?: () => void }).unref?.();
      }
    };
    void tick();
    return () => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      if (--polling === 0) own.clear();
    };
  }

  function makeSession(client: PgPoolClient, txMode: 'r' | 'rw', beginText: string): SqlSession {
    let broken = false;
    // A client in node-postgres' pipeline mode (`new Pool({ pipeline: true })`, pg ≥ 8.17) writes each
    // statement at once, without waiting for the answers before it: BEGIN travels with the first
    // statement, concurrent reads share a round trip, NOTIFY with COMMIT. Answers still come in order.
    const pipelined = (client as { pipeline?: unknown }).pipeline === true;
    // Pipelined: set (synchronously, answers come in order) once BEGIN failed, before any later answer.
    let beginFailed: unknown;
    // A read-only transaction's COMMIT changes nothing and cannot fail for a reason the caller could act
    // on: the caller gets its result without waiting for it, and the connection returns to the pool
    // only once it has finished (one round trip less per read; broken connections are dropped).
    let ending: Promise<void> | undefined;
    // Poll mode: feed positions this transaction reserved (forgotten again if it rolls back).
    const reserved: { tenantId: string; range: [number, number] }[] = [];
    // Positions of a transaction that did not commit are handed out again, to others: not ours.
    const forgetReserved = () => {
      for (const { tenantId, range } of reserved) {
        const ranges = own.get(tenantId);
        const at = ranges?.indexOf(range) ?? -1;
        if (at >= 0) ranges!.splice(at, 1);
      }
      reserved.length = 0;
    };
    // One statement at a time on the client: callers may issue reads concurrently (the board does), and
    // node-postgres deprecates queueing queries on a busy client (pg 9 removes it).
    let tail: Promise<unknown> = Promise.resolve();
    const send = async (config: PgQueryConfig) => {
      try {
        return await client.query(config);
      } catch (error) {
        if (isConnectionError(error)) broken = true;
        throw error;
      }
    };
    const query = (config: PgQueryConfig) => {
      if (!pipelined) {
        const result = tail.then(() => send(config));
        tail = result.catch(() => undefined);
        return result;
      }
      if (beginFailed !== undefined) return Promise.reject(beginFailed);
      const result = send(config);
      tail = Promise.all([tail, result.catch(() => undefined)]);
      return result;
    };
    if (pipelined) {
      void query({ text: beginText }).catch((error: unknown) => {
        // The statements sent behind it ran outside a transaction: nothing of this one may commit.
        beginFailed = error;
        broken = true;
      });
    }
    // NOTIFYs sent (pipelined) and not yet answered: COMMIT waits for them.
    const notified: Promise<unknown>[] = [];
    const checkBegun = () => {
      if (beginFailed !== undefined) throw beginFailed;
    };
    const run = (p: Prepared, values: readonly unknown[], rowMode?: 'array') => query({ name: p.name, text: p.text, values, ...(rowMode ? { rowMode } : {}) });
    /** Tenants whose owner-keys lock this transaction holds shared (see `write`). */
    const keyLocked = new Set<string>();

    async function conflictFor(t: EntityTable, s: EntityStatements, tenantId: string, op: WriteOp): Promise<never> {
      const id = op.type === 'delete' ? op.id : op.row.id;
      const found = (await run(s.version, [tenantId, id], 'array')).rows[0] as unknown[] | undefined;
      checkWriteVersion(t.entity, op, found ? ({ id, tenantId, version: Number(found[0]) } as Row) : undefined);
      throw storageFailure('postgres', 'write', `The write of ${t.entity} ${id} changed no row`);
    }

    async function insertLists(t: EntityTable, s: EntityStatements, tenantId: string, rows: readonly Row[]): Promise<void> {
      for (const { list, insert, holders } of s.lists) {
        const values: string[] = [];
        const ids: string[] = [];
        for (const row of rows) {
          for (const v of listValues(list, row)) {
            values.push(v);
            ids.push(row.id);
          }
        }
        if (!values.length) continue;
        if (holders) await checkUnique(t, list, holders, tenantId, values, ids);
        try {
          await run(insert, [tenantId, values, ids]);
        } catch (error) {
          // Another transaction took a value after the check above (READ COMMITTED): the UNIQUE index refused it.
          if ((error as { code?: unknown }).code === '23505' && holders) throw uniqueConflict(t.entity, ids[0]!, list.field, uniqueValueOf(error) ?? values[0]!);
          throw error;
        }
      }
    }

    /** Refuses values another row holds, or two rows of one batch share, naming the holder (see `StorageTx.write`). */
    async function checkUnique(t: EntityTable, list: ListTable, holders: Prepared, tenantId: string, values: readonly string[], ids: readonly string[]): Promise<void> {
      const wanted = new Map<string, string>();
      values.forEach((value, i) => {
        const other = wanted.get(value);
        if (other !== undefined && other !== ids[i]) throw uniqueConflict(t.entity, ids[i]!, list.field, value, other);
        wanted.set(value, ids[i]!);
      });
      const found = (await run(holders, [tenantId, [...wanted.keys()]], 'array')).rows as [string, string][];
      for (const [value, holder] of found) {
        const id = wanted.get(value)!;
        if (holder !== id) throw uniqueConflict(t.entity, id, list.field, value, holder);
      }
    }

    async function deleteLists(s: EntityStatements, tenantId: string, ids: readonly string[]): Promise<void> {
      for (const { deleteRows } of s.lists) await run(deleteRows, [tenantId, ids]);
    }

    async function insertBatch(t: EntityTable, s: EntityStatements, tenantId: string, ops: readonly Extract<WriteOp, { type: 'insert' }>[]): Promise<void> {
      const context = `postgres write to ${t.entity}`;
      const records = ops.map(({ row }) => {
        docText(row, context); // rejects rows that are not JSON documents with VALIDATION
        const record: Record<string, unknown> = { id: row.id, version: row.version, doc: row };
        columnValues(dialect, t, row).forEach((v, i) => (record[`c${i}`] = v));
        return record;
      });
      const result = await run(s.insert, t.ownerKey ? [tenantId, tenantId, JSON.stringify(records)] : [tenantId, JSON.stringify(records)], 'array');
      if (result.rows.length < ops.length) {
        // Some ids existed (or repeat within the batch): report the first insert that did not happen.
        const inserted = new Map<string, number>();
        for (const r of result.rows as unknown[][]) inserted.set(r[0] as string, (inserted.get(r[0] as string) ?? 0) + 1);
        for (const op of ops) {
          const left = inserted.get(op.row.id) ?? 0;
          if (left === 0) await conflictFor(t, s, tenantId, op);
          inserted.set(op.row.id, left - 1);
        }
      }
      if (s.lists.length) await insertLists(t, s, tenantId, ops.map((op) => op.row));
    }

    return {
      async select(q) {
        return (await query({ text: q.sql, values: q.parameters, rowMode: 'array' })).rows as unknown[][];
      },

      async readDocs(t, tenantId, ids) {
        const rows = (await run(statementsOf(t).getMany, [tenantId, [...ids]], 'array')).rows as unknown[][];
        const docs = new Map<string, Row>();
        for (const [id, doc] of rows) docs.set(id as string, dialect.readDoc(doc));
        return docs;
      },

      async write(t, tenantId, ops, previous) {
        const s = statementsOf(t);
        const context = `postgres write to ${t.entity}`;
        // Rows stamped with owner keys wait for a `setOwnerKeys` in progress, then read its keys
        // (READ COMMITTED: each statement sees what committed before it); one restamping waits for them.
        if (t.ownerKey && !keyLocked.has(tenantId) && ops.some((op) => op.type !== 'delete')) {
          await run(sharedLockStatement, [[ownerKeysLock(tenantId)]]);
          keyLocked.add(tenantId);
        }
        for (let i = 0; i < ops.length; ) {
          const op = ops[i]!;
          if (op.type === 'insert') {
            let j = i;
            while (j < ops.length && ops[j]!.type === 'insert') j++;
            await insertBatch(t, s, tenantId, ops.slice(i, j) as Extract<WriteOp, { type: 'insert' }>[]);
            i = j;
            continue;
          }
          if (op.type === 'update') {
            const row = op.row;
            const values = columnValues(dialect, t, row);
            const params = [row.version, docText(row, context), ...values, ...(t.ownerKey ? [tenantId, values[t.ownerKey.owner]] : []), tenantId, row.id, op.expectedVersion];
            if ((await run(s.update, params)).rowCount === 0) await conflictFor(t, s, tenantId, op);
            // The version check passed, so a row this transaction read at the expected version is the one that
            // was stored: when its lists equal the new ones, their side-table rows stay (two round trips fewer).
            const before = previous?.(row.id);
            const same = before?.version === op.expectedVersion && s.lists.every(({ list }) => sameValues(listValues(list, before), listValues(list, row)));
            if (s.lists.length && !same) {
              await deleteLists(s, tenantId, [row.id]);
              await insertLists(t, s, tenantId, [row]);
            }
          } else {
            const result = op.expectedVersion === undefined ? await run(s.deleteAny, [tenantId, op.id]) : await run(s.deleteVersioned, [tenantId, op.id, op.expectedVersion]);
            if (result.rowCount === 0) await conflictFor(t, s, tenantId, op);
            if (s.lists.length) await deleteLists(s, tenantId, [op.id]);
          }
          i++;
        }
      },

      async lockKeys(tenantId, keys, shared) {
        await run(shared ? sharedLockStatement : lockStatement, [keys.map((k) => `${lockBase}\u0001${tenantId}\u0001${k}`)]);
      },

      async setOwnerKeys(tenantId, keys, all) {
        await run(lockStatement, [[ownerKeysLock(tenantId)]]);
        const side = dialect.table(currentLayout!.ownerKeys);
        const users = Object.keys(keys);
        const set = Object.entries(keys).filter((e): e is [string, string] => e[1] !== null);
        const exec = (fragment: SqlFragment) => {
          const q = compile(fragment);
          return query({ text: q.sql, values: q.parameters });
        };
        await exec(all ? sql`DELETE FROM ${side} WHERE "tenant_id" = ${tenantId}` : sql`DELETE FROM ${side} WHERE "tenant_id" = ${tenantId} AND "user_id" = ANY(${users}::text[])`);
        if (set.length) {
          await exec(sql`INSERT INTO ${side} ("tenant_id", "user_id", "key") SELECT ${tenantId}, "u"."user_id", "u"."key" FROM unnest(${set.map(([u]) => u)}::text[], ${set.map(([, k]) => k)}::text[]) AS "u"("user_id", "key")`);
        }
        for (const s of statements.values()) {
          if (s.restamp) await run(all ? s.restamp.all : s.restamp.some, all ? [tenantId] : [tenantId, users]);
        }
      },

      async nextSequence(tenantId, name, count) {
        // The UPSERT locks the counter row until this transaction ends: reservations commit in order.
        const result = await run(nextSequence!, [tenantId, name, count], 'array');
        const first = Number((result.rows[0] as unknown[])[0]) - count + 1;
        if (polling > 0 && name === FEED_SEQUENCE) {
          // Known as this adapter's own before the commit makes them visible to the poller.
          const range: [number, number] = [first, first + count - 1];
          if (!own.has(tenantId)) own.set(tenantId, []);
          own.get(tenantId)!.push(range);
          reserved.push({ tenantId, range });
        }
        return first;
      },

      async publish(changes) {
        // NOTIFY is delivered at commit, to every listener, in commit order, and never for a rollback.
        if (mode !== 'notify') return;
        for (const payload of changePayloads(changes)) {
          const sent = query({ text: 'SELECT pg_notify($1, $2)', values: [channel, payload] });
          if (pipelined) notified.push(sent);
          else await sent;
        }
      },

      async commit() {
        checkBegun();
        if (txMode === 'r') {
          ending = query({ text: 'COMMIT' }).then(
            () => undefined,
            () => void (broken = true),
          );
          return;
        }
        try {
          if (notified.length === 0) await query({ text: 'COMMIT' });
          else {
            // A failed NOTIFY aborts the transaction, and COMMIT then rolls back without an error: it throws here.
            const sent = [...notified, query({ text: 'COMMIT' })];
            notified.length = 0;
            await Promise.all(sent);
          }
        } catch (error) {
          forgetReserved();
          throw error;
        }
      },

      async rollback() {
        forgetReserved();
        // After the statements still queued (a failed one may leave concurrent reads in flight).
        await tail;
        if (broken) return;
        try {
          await client.query({ text: 'ROLLBACK' });
        } catch (error) {
          broken = true;
          void error;
        }
      },

      release() {
        if (ending) void ending.then(() => client.release(broken ? true : undefined));
        else client.release(broken ? true : undefined);
      },
    };
  }

  async function ddl(run: (exec: MigrationExecutor) => Promise<void>): Promise<void> {
    const client = await connect();
    let failed = false;
    try {
      await client.query({ text: 'BEGIN' });
      const lockKey = `crmkit:${options.schema ?? ''}:${options.tablePrefix}`;
      await client.query({ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', values: [lockKey] });
      if (options.schema) await client.query({ text: compile(sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(options.schema)}`).sql });
      await run({
        adapter: 'postgres',
        dialect,
        async run(fragment) {
          const q = compile(fragment);
          await client.query({ text: q.sql, values: q.parameters });
        },
        async all(fragment) {
          const q = compile(fragment);
          return (await client.query({ text: q.sql, values: q.parameters, rowMode: 'array' })).rows as unknown[][];
        },
      });
      await client.query({ text: 'COMMIT' });
    } catch (error) {
      failed = isConnectionError(error);
      await client.query({ text: 'ROLLBACK' }).catch(() => (failed = true));
      throw error;
    } finally {
      client.release(failed ? true : undefined);
    }
  }

  async function connect(): Promise<PgPoolClient> {
    if (!pool) throw storageFailure('postgres', 'transaction', 'The PostgreSQL pool is not open');
    return pool.connect();
  }

  /** One statement on a pooled connection, no BEGIN/COMMIT: two round trips fewer than a transaction. */
  async function pooled(config: PgQueryConfig): Promise<unknown[][]> {
    const client = await connect();
    try {
      const { rows } = await client.query(config);
      client.release();
      return rows as unknown[][];
    } catch (error) {
      client.release(isConnectionError(error) ? true : undefined);
      throw error;
    }
  }

  return {
    name: 'postgres',
    dialect,
    serializeReads: false,

    async databaseTime() {
      const client = await connect();
      try {
        const { rows } = await client.query({ text: 'SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS ms', rowMode: 'array' });
        client.release();
        return Number((rows as unknown[][])[0]![0]);
      } catch (error) {
        client.release(true);
        throw error;
      }
    },

    async open(schema: StorageSchema, layout: StorageLayout) {
      if (!pool) {
        if (options.pool) pool = options.pool;
        else {
          const own = await options.createPool!();
          // An idle client that loses its connection emits 'error' on the pool; unhandled, it would crash the process.
          own.on?.('error', () => undefined);
          pool = own;
        }
      }
      await ddl((exec) => migrate(exec, layout, schema, new Date().toISOString()).then(() => undefined));
      currentLayout = layout;
      const next = new Map<string, EntityStatements>();
      for (const t of layout.entities.values()) next.set(t.entity, prepareEntity(t));
      statements = next;
      const seq = dialect.table(layout.sequences);
      nextSequence = prepared(
        sql`INSERT INTO ${seq} ("tenant_id", "name", "value") VALUES (${null}, ${null}, ${null}) ON CONFLICT ("tenant_id", "name") DO UPDATE SET "value" = ${seq}."value" + excluded."value" RETURNING "value"`,
      );
      watermark = prepared(sql`SELECT "tenant_id", "value" FROM ${seq} WHERE "name" = ${null}`);
      // One channel per crmkit database (schema and prefix); the name is a hash, a safe identifier.
      channel = `crmkit_${statementName(`${options.schema ?? ''}:${options.tablePrefix}`).slice(7, 31)}`;
    },

    ddl,

    async readDocs(t, tenantId, ids) {
      const p = statementsOf(t).getMany;
      const rows = await pooled({ name: p.name, text: p.text, values: [tenantId, [...ids]], rowMode: 'array' });
      const docs = new Map<string, Row>();
      for (const [id, doc] of rows) docs.set(id as string, dialect.readDoc(doc));
      return docs;
    },

    select: (q) => pooled({ text: q.sql, values: q.parameters, rowMode: 'array' }),

    // Not on PGlite: its single connection would be held by the listener (and no other process writes there).
    ...(mode === 'notify' ? { watch: (emit: (batch: ChangeBatch) => void) => listen(emit) } : mode === 'poll' ? { watch: (emit: (batch: ChangeBatch) => void) => poll(emit) } : {}),

    async begin(mode) {
      const client = await connect();
      const text = mode === 'r' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN';
      // Pipelined, BEGIN goes out with the first statement (makeSession); otherwise it takes a round trip.
      if ((client as { pipeline?: unknown }).pipeline === true) return makeSession(client, mode, text);
      try {
        await client.query({ text });
      } catch (error) {
        client.release(true);
        throw error;
      }
      return makeSession(client, mode, text);
    },

    async close() {
      statements = new Map();
      if (pool && !options.pool) await pool.end();
      pool = undefined;
    },
  };
}

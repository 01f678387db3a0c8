import type { PgPool, PgPoolClient, PgQueryConfig, PgQueryResult } from './postgres-driver.js';

/** The part of a PGlite transaction (`tx` in `pglite.transaction(async (tx) => …)`) the adapter uses. */
export interface PgliteTransaction {
  query<T = unknown>(query: string, params?: unknown[], options?: { rowMode?: 'array' | 'object' }): Promise<{ rows: T[]; affectedRows?: number }>;
  rollback(): Promise<void>;
}

/**
 * The part of a PGlite instance the adapter uses: `PGlite` from `@electric-sql/pglite`, or
 * `PGliteWorker` from `@electric-sql/pglite/worker`. Declared structurally so that PGlite stays an
 * optional peer dependency and nothing of it is bundled.
 */
export interface PgliteDatabase {
  transaction<T>(callback: (tx: PgliteTransaction) => Promise<T>): Promise<T>;
  /** `memory://…` or undefined for an in-memory database; a path, `idb://…` or `opfs-ahp://…` when it persists. */
  readonly dataDir?: string;
}

const EMPTY: PgQueryResult = { rows: [], rowCount: null };

/**
 * A node-postgres-shaped pool over one PGlite database, for the PostgreSQL engine. PGlite has one
 * connection, so each checkout is one `pglite.transaction()`: it holds PGlite's transaction lock from
 * `connect()` to `release()`, and queries that others run on the same PGlite meanwhile wait for it
 * instead of slipping into crmkit's transaction.
 *
 * The engine's transaction statements map onto that transaction: `BEGIN <modes>` becomes
 * `SET TRANSACTION <modes>` (PGlite has begun already), `COMMIT` ends the callback (PGlite commits, and
 * a failed commit rejects `COMMIT`), `ROLLBACK` calls `tx.rollback()`. Statement names are ignored:
 * PGlite parses every statement anew.
 *
 * @param db The PGlite database; the pool never closes it (`end()` does nothing).
 * @returns A pool for `createPostgresEngine({ pool })`.
 */
export function pglitePool(db: PgliteDatabase): PgPool {
  return {
    connect: () => checkout(db),
    end: async () => undefined,
  };
}

function checkout(db: PgliteDatabase): Promise<PgPoolClient> {
  return new Promise<PgPoolClient>((resolveClient, rejectClient) => {
    let finish!: (outcome: 'commit' | 'rollback') => void;
    const outcome = new Promise<'commit' | 'rollback'>((resolve) => (finish = resolve));
    let started = false;
    let finished = false;
    const transaction = db.transaction(async (tx) => {
      started = true;
      resolveClient(client(tx));
      if ((await outcome) === 'rollback') await tx.rollback();
    });
    // Before the callback ran, a failure means no client (PGlite closed, …); after it, the failure
    // belongs to the COMMIT or ROLLBACK that ends the transaction and is reported there.
    transaction.catch((error: unknown) => {
      if (!started) rejectClient(error);
    });

    const end = async (how: 'commit' | 'rollback'): Promise<PgQueryResult> => {
      if (finished) throw new Error(`${how.toUpperCase()} after the PGlite transaction ended`);
      finished = true;
      finish(how);
      await transaction;
      return EMPTY;
    };

    function client(tx: PgliteTransaction): PgPoolClient {
      return {
        async query(config: PgQueryConfig): Promise<PgQueryResult> {
          const text = config.text.trim();
          const begin = /^BEGIN\b(.*)$/is.exec(text);
          if (begin) {
            const modes = begin[1]!.trim();
            if (modes) await tx.query(`SET TRANSACTION ${modes}`);
            return EMPTY;
          }
          if (/^COMMIT$/i.test(text)) return end('commit');
          if (/^ROLLBACK$/i.test(text)) return end('rollback');
          if (finished) throw new Error('The PGlite transaction has ended');
          const result = await tx.query(config.text, config.values ? [...config.values] : [], { rowMode: config.rowMode ?? 'object' });
          // affectedRows counts INSERT/UPDATE/DELETE rows (0 for SELECT, where pg reports the rows returned).
          return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
        },
        release() {
          // A client released without COMMIT/ROLLBACK (a failed BEGIN, a broken session) rolls back.
          if (!finished) end('rollback').catch(() => undefined);
        },
      };
    }
  });
}

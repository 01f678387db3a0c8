import Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from '@crmkit/storage-sqlite';

/** A better-sqlite3 database whose statements fail on command: the N-th statement run after `arm(N)` throws. */
export interface FaultyDatabase {
  readonly database: SqliteDatabase;
  /** Makes the `n`-th statement execution from now throw (1 = the next one). */
  arm(n: number): void;
  disarm(): void;
  /** Statement executions since the last `arm`/`count` reset. */
  readonly executed: number;
  resetCount(): void;
  /** Makes the next `count` ROLLBACKs fail: prepared ones, and with `exec` also `exec('ROLLBACK')`. */
  failRollbacks(count: number, options?: { exec?: boolean }): void;
  /** Every table's rows, to compare the whole database before and after. */
  dump(): Record<string, unknown[]>;
  close(): void;
}

export class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

export function createFaultyDatabase(filename = ':memory:', open: (filename: string) => Database.Database = (f) => new Database(f)): FaultyDatabase {
  const db = open(filename);
  let countdown = 0;
  let executed = 0;
  let rollbackFailures = 0;
  let failExecRollback = false;
  const failRollback = (how: string) => {
    if (rollbackFailures <= 0) return;
    rollbackFailures--;
    throw new InjectedFailure(`injected ROLLBACK failure (${how})`);
  };
  const tick = (source: string) => {
    if (source === 'ROLLBACK') return failRollback('prepared'); // rolling back stays possible unless asked
    executed++;
    if (countdown > 0 && --countdown === 0) throw new InjectedFailure(`injected failure at: ${source.slice(0, 60)}`);
  };
  const wrap = (statement: ReturnType<typeof db.prepare>, source: string): SqliteStatement => {
    const wrapped: SqliteStatement = {
      get reader() {
        return statement.reader;
      },
      run: (...params: unknown[]) => (tick(source), (statement.run as (...p: unknown[]) => { changes: number })(...params)),
      all: (...params: unknown[]) => (tick(source), (statement.all as (...p: unknown[]) => unknown[])(...params)),
      get: (...params: unknown[]) => (tick(source), (statement.get as (...p: unknown[]) => unknown)(...params)),
      raw: (toggle?: boolean) => (statement.raw(toggle), wrapped),
    };
    return wrapped;
  };
  const database: SqliteDatabase = {
    get memory() {
      return db.memory;
    },
    get open() {
      return db.open;
    },
    get inTransaction() {
      return db.inTransaction;
    },
    prepare: (source) => wrap(db.prepare(source), source),
    exec: (source) => {
      if (failExecRollback && /^\s*ROLLBACK/i.test(source)) failRollback('exec');
      return db.exec(source);
    },
    pragma: (source, options) => db.pragma(source, options),
    close: () => db.close(),
  };
  return {
    database,
    arm(n) {
      countdown = n;
      executed = 0;
    },
    disarm() {
      countdown = 0;
    },
    failRollbacks(count, options = {}) {
      rollbackFailures = count;
      failExecRollback = options.exec ?? false;
    },
    get executed() {
      return executed;
    },
    resetCount() {
      executed = 0;
    },
    dump() {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
      const rows = (t: string) => (db.prepare(`SELECT * FROM "${t}"`).all() as unknown[]).map((r) => JSON.stringify(r)).sort();
      return Object.fromEntries(tables.map((t) => [t, rows(t)]));
    },
    close: () => db.close(),
  };
}

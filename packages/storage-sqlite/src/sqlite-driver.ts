/**
 * The part of a better-sqlite3 prepared statement the adapter uses. Declared structurally (like
 * Kysely's `SqliteDatabase`) so `better-sqlite3` stays an optional peer dependency.
 */
export interface SqliteStatement {
  /** True for statements that return rows. */
  readonly reader: boolean;
  /** True for statements that never write (better-sqlite3); absent counts as writing. */
  readonly readonly?: boolean;
  run(...params: unknown[]): { changes: number };
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  /** Makes the statement return rows as arrays (persistent for this statement). */
  raw(toggle?: boolean): SqliteStatement;
}

/** The part of a better-sqlite3 `Database` the adapter uses. Any compatible object works. */
export interface SqliteDatabase {
  /** True for `:memory:` and other databases that live in this connection only. */
  readonly memory: boolean;
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare(source: string): SqliteStatement;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}

/** The constructor `better-sqlite3` exports. */
export type SqliteDatabaseConstructor = new (filename: string, options?: { timeout?: number; fileMustExist?: boolean }) => SqliteDatabase;

/**
 * Loads `better-sqlite3` on first use, so that importing `@crmkit/storage-sqlite` never requires it.
 *
 * @throws Error with an install hint when the package is missing.
 */
export async function loadBetterSqlite3(): Promise<SqliteDatabaseConstructor> {
  try {
    const mod = (await import('better-sqlite3')) as unknown as { default?: SqliteDatabaseConstructor } & SqliteDatabaseConstructor;
    return mod.default ?? mod;
  } catch (error) {
    throw new Error('createSqliteStorage({ filename }) needs the "better-sqlite3" package: npm install better-sqlite3', { cause: error });
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A pool on the test server and fresh schemas for isolation: each conformance test gets its own. */
export interface PostgresTestBed {
  readonly pool: pg.Pool;
  readonly url: string;
  /** A new, unused schema name. */
  schemaName(prefix?: string): string;
  /** Drops a schema and everything in it. */
  dropSchema(name: string): Promise<void>;
  end(): Promise<void>;
}

export function createPostgresTestBed(url: string): PostgresTestBed {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', () => undefined);
  let n = 0;
  return {
    pool,
    url,
    schemaName: (prefix = 't') => `${prefix}_${process.pid}_${++n}_${randomBytes(3).toString('hex')}`,
    async dropSchema(name) {
      await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    },
    end: () => pool.end(),
  };
}

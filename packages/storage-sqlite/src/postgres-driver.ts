/** A query as node-postgres takes it. */
export interface PgQueryConfig {
  readonly text: string;
  readonly values?: readonly unknown[];
  /** A name makes the server keep the parsed statement for this connection. */
  readonly name?: string;
  readonly rowMode?: 'array';
}

/** The part of a node-postgres result the adapter reads. */
export interface PgQueryResult {
  readonly rows: unknown[];
  readonly rowCount: number | null;
}

/**
 * The part of a node-postgres `PoolClient` the adapter uses. Declared structurally so `pg` stays an
 * optional peer dependency; any compatible pool works.
 */
export interface PgPoolClient {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  /** Returns the client to the pool; a truthy argument destroys it instead (broken connection). */
  release(destroy?: boolean | Error): void;
  /** `notification` (LISTEN) and `error` events of the connection; needed for external changes. */
  on?(event: 'notification' | 'error', listener: (message: { channel?: string; payload?: string } & Partial<Error>) => void): unknown;
}

/** The part of a node-postgres `Pool` the adapter uses. */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** The `Pool` constructor `pg` exports. */
export type PgPoolConstructor = new (config: { connectionString: string; max?: number; application_name?: string; pipeline?: boolean }) => PgPool;

/**
 * Loads `pg` on first use, so that importing `@crmkit/storage-sqlite` never requires it.
 *
 * @throws Error with an install hint when the package is missing.
 */
export async function loadPg(): Promise<PgPoolConstructor> {
  try {
    const mod = (await import('pg')) as unknown as { default?: { Pool: PgPoolConstructor }; Pool?: PgPoolConstructor };
    const Pool = mod.Pool ?? mod.default?.Pool;
    if (!Pool) throw new Error('the "pg" module has no Pool export');
    return Pool;
  } catch (error) {
    throw new Error('createPostgresStorage({ connectionString }) needs the "pg" package: npm install pg', { cause: error });
  }
}

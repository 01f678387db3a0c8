import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { findPostgresBinaries, type PostgresBinariesSource } from './postgres-binaries.js';
import { binariesReachableBy, serverAccount, sharedTmpdir } from './server-account.js';

export { findPostgresBinaries, type PostgresBinaries, type PostgresBinariesSource } from './postgres-binaries.js';

/** A throwaway PostgreSQL cluster on a loopback port. */
export interface PostgresServer {
  readonly port: number;
  /** `postgresql://postgres@127.0.0.1:PORT/postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly source: PostgresBinariesSource;
  /** `postgres (PostgreSQL) 18.4` */
  readonly version: string;
  /** The OS account the server runs as (`nobody` when the tests run as root), or undefined for the current user. */
  readonly runsAs?: string;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a fresh PostgreSQL cluster for tests: `initdb` into a temporary directory (trust auth, UTF-8,
 * C locale, no fsync), then `pg_ctl start` listening on 127.0.0.1 and a free port only. Binaries come
 * from {@link findPostgresBinaries} (npm first). As root, the cluster is owned by and runs as an
 * unprivileged account (`nobody`; see `serverAccount`): the processes are spawned with its uid/gid,
 * so no `postgres` OS user, `su` or `sudo` is needed.
 *
 * @returns The running server; `stop()` it when done.
 * @throws Error with initdb's or pg_ctl's output when the server does not start.
 * @example
 * const server = await startPostgresServer();
 * try { … new pg.Pool({ connectionString: server.url }) … } finally { await server.stop(); }
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const found = findPostgresBinaries();
  const account = serverAccount();
  const bin = await binariesReachableBy(found.bin, account, found.packageId ?? found.version);
  const dir = mkdtempSync(join(sharedTmpdir(account), 'crmkit-pg-'));
  if (account) chownSync(dir, account.uid, account.gid);
  const data = join(dir, 'data');
  const run = (name: string, args: string[]) =>
    execFileSync(join(bin, name), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: dir,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    });
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', settings, 'start']);
  } catch (error) {
    const output = [(error as { stdout?: string }).stdout, (error as { stderr?: string }).stderr].filter(Boolean).join('\n');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Could not start PostgreSQL from ${bin} (${found.source}): ${(error as Error).message}\n${output}`, { cause: error });
  }
  let stopped = false;
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    source: found.source,
    version: found.version,
    ...(account ? { runsAs: account.name } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The PostgreSQL a test run uses: a URL to connect to and how to let go of it. */
export interface TestPostgres {
  readonly url: string;
  /** What provides it, for logs: `CRMKIT_TEST_POSTGRES_URL`, or the binaries' source and version. */
  readonly description: string;
  release(): Promise<void>;
}

/**
 * The PostgreSQL for a test run: `CRMKIT_TEST_POSTGRES_URL` when set (an existing server, left as
 * is), else a throwaway cluster from {@link startPostgresServer}, deleted on `release()`.
 *
 * @returns The URL and its release function.
 * @example
 * const pg = await testPostgres();
 * try { … } finally { await pg.release(); }
 */
export async function testPostgres(): Promise<TestPostgres> {
  const url = process.env.CRMKIT_TEST_POSTGRES_URL;
  if (url) return { url, description: 'CRMKIT_TEST_POSTGRES_URL', release: async () => undefined };
  const server = await startPostgresServer();
  return {
    url: server.url,
    description: `${server.version} (${server.source}${server.runsAs ? `, as ${server.runsAs}` : ''})`,
    release: () => server.stop(),
  };
}

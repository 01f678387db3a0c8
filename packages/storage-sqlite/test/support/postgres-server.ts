import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway PostgreSQL cluster on a loopback port. */
export interface PostgresServer {
  readonly port: number;
  /** `postgresql://postgres@127.0.0.1:PORT/postgres` (trust authentication, loopback only). */
  readonly url: string;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

function findBinary(name: string): string {
  const dirs = [process.env.CRMKIT_PG_BIN, '/usr/local/bin', '/usr/lib/postgresql/bin'];
  if (existsSync('/usr/lib/postgresql')) {
    for (const v of readdirSync('/usr/lib/postgresql').sort().reverse()) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  }
  for (const dir of dirs) if (dir && existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`PostgreSQL's ${name} was not found (looked in ${dirs.filter(Boolean).join(', ')}); install postgresql or set CRMKIT_PG_BIN`);
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

/** PostgreSQL refuses to run as root: as root, commands run as the `postgres` OS user, which must exist. */
function runner(): { run: (command: string) => string; owner?: { uid: number; gid: number } } {
  if (process.getuid?.() !== 0) return { run: (command) => execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', stdio: 'pipe' }) };
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error('Tests run as root, and PostgreSQL must not: create the OS user first, e.g. `useradd --system --no-create-home --shell /bin/sh postgres`');
  }
  return { run: (command) => execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', command], { encoding: 'utf8', stdio: 'pipe' }), owner: { uid, gid } };
}

/**
 * Starts a fresh PostgreSQL cluster for tests: `initdb` into a temporary directory (trust auth, UTF-8,
 * C locale, no fsync), then `pg_ctl start` listening on 127.0.0.1 and a free port only.
 *
 * @example
 * const server = await startPostgresServer();
 * try { … new pg.Pool({ connectionString: server.url }) … } finally { await server.stop(); }
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const initdb = findBinary('initdb');
  const pgCtl = findBinary('pg_ctl');
  const { run, owner } = runner();
  const dir = mkdtempSync(join(tmpdir(), 'crmkit-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
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
    run(`${initdb} -D ${data} -A trust -U postgres -E UTF8 --locale=C --no-sync > ${dir}/initdb.log 2>&1`);
    run(`${pgCtl} -D ${data} -l ${dir}/server.log -w -t 60 -o "${settings}" start > /dev/null`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Could not start PostgreSQL: ${(error as Error).message}`, { cause: error });
  }
  let stopped = false;
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run(`${pgCtl} -D ${data} -m immediate -w stop > /dev/null 2>&1`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

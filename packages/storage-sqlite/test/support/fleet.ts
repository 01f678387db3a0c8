import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createPostgresStorage, createSqliteStorage } from '@crmkit/storage-sqlite';
import { forkChild, type Child } from './child-process.js';
import { createPostgresTestBed, type PostgresTestBed } from './postgres-subjects.js';
import { tempDir } from './temp-dir.js';

/** Cleanups a test file runs after each test (last registered first). */
export type Cleanups = (() => void | Promise<void>)[];

/** One engine of the fleet tests: a fresh database, how children open it, and an adapter for the test itself. */
export interface FleetEngine {
  readonly name: 'sqlite' | 'postgres';
  make(): Promise<{ open: Record<string, unknown>; storage: () => ReturnType<typeof createSqliteStorage> }>;
}

/**
 * SQLite (one file) and PostgreSQL (one schema of the test-support server) as fleet engines; databases
 * are dropped through `cleanups`. `end()` closes the PostgreSQL test bed (call it in `afterAll`).
 */
export function fleetEngines(cleanups: () => Cleanups, prefix: string): { engines: FleetEngine[]; end: () => Promise<void> | undefined } {
  let bed: PostgresTestBed | undefined;
  const engines: FleetEngine[] = [
    {
      name: 'sqlite',
      async make() {
        const tmp = tempDir(`crmkit-${prefix}-`);
        cleanups().push(tmp.cleanup);
        const file = tmp.file('fleet.db');
        return { open: { engine: 'sqlite', file }, storage: () => createSqliteStorage({ filename: file, busyTimeoutMs: 20_000, changePollMs: 50 }) };
      },
    },
    {
      name: 'postgres',
      async make() {
        const url = inject('postgresUrl');
        bed ??= createPostgresTestBed(url);
        const schema = bed.schemaName(prefix.replace(/[^a-z]/g, ''));
        cleanups().push(() => bed!.dropSchema(schema));
        return { open: { engine: 'postgres', url, schema }, storage: () => createPostgresStorage({ connectionString: url, schema, maxConnections: 4 }) };
      },
    },
  ];
  return { engines, end: () => bed?.end() };
}

/** Lines of every log file named `<name>-<pid>.log` (or `<name>-…`) in `dir`; none when the folder is gone. */
export function logLines(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${name}-`))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
}

/**
 * Starts `workers` child processes running `script`, each sent `open` first (or `open(i)` for worker
 * `i`), and replaces killed ones; `killOne` SIGKILLs a random worker mid-work and starts a replacement,
 * sent the victim's `open`, in the background.
 */
export async function startFleet(options: { script: string; workers: number; open: Record<string, unknown> | ((worker: number) => Record<string, unknown>); cleanups: () => Cleanups }) {
  const live: { child: Child; open: Record<string, unknown> }[] = [];
  const spawning: Promise<void>[] = [];
  let kills = 0;
  const spawn = async (open: Record<string, unknown>) => {
    const child = await forkChild(options.script, { bundled: true });
    options.cleanups().push(() => child.kill('SIGKILL'));
    await child.request({ cmd: 'open', ...open });
    live.push({ child, open });
  };
  const { open } = options;
  await Promise.all(Array.from({ length: options.workers }, (_, i) => spawn(typeof open === 'function' ? open(i) : open)));
  return {
    get kills() {
      return kills;
    },
    async killOne() {
      const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0];
      if (!victim) return;
      victim.child.kill('SIGKILL');
      await victim.child.exited;
      kills++;
      spawning.push(spawn(victim.open));
    },
    async stop() {
      await Promise.all(spawning);
      for (const { child } of live.splice(0)) {
        child.kill('SIGKILL');
        await child.exited;
      }
    },
  };
}

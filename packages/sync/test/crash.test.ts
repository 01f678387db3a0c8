import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSyncClient, httpTransport, type SyncTransport } from '../src/index.js';
import { deviceCrm, own, syncedRows } from './client/support.js';

// Design sync.md §13 test 3, server part: the server is a child process on an SQLite file, SIGKILLed in the
// middle of a 100-command push and of a paged pull, restarted on the same file; the device retries.
// Nothing is applied twice, nothing is lost, sync resumes.

const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
const CHILD = fileURLToPath(new URL('./support/crash-server-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'crmkit-sync-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Stats {
  events: Record<string, number>;
  activityIds: string[];
  clients: { id: string; lastSeq: number; rejected: unknown[] }[];
}

/** The server process: its port, SIGKILL after the n-th committed transaction (plus `extraMs`), stats. */
async function startServer(file: string, env: { delayMs: number; seedDeals?: number }) {
  const child = fork(CHILD, [], {
    cwd: PACKAGE_DIR,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_OPTIONS: '', TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)), CRASH_DB: file, CRASH_DELAY_MS: String(env.delayMs), CRASH_SEED_DEALS: String(env.seedDeals ?? 0) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<number, (value: unknown) => void>();
  let seq = 0;
  let commits = 0;
  let killAt: { commits: number; extraMs: number } | undefined;
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    child.kill('SIGKILL');
  };
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server process exited with ${code} before it listened`)));
    child.on('message', (message: { ready?: number; committed?: string; seq?: number; result?: unknown; error?: string }) => {
      if (message.ready !== undefined) resolve(message.ready);
      if (message.committed) {
        commits++;
        if (killAt && commits === killAt.commits) setTimeout(kill, killAt.extraMs);
      }
      if (message.seq !== undefined) waiting.get(message.seq)?.(message.error ? new Error(message.error) : message.result);
    });
  });
  return {
    url: `http://127.0.0.1:${port}/sync`,
    /** SIGKILLs the process after its `commits`-th committed transaction from now, `extraMs` later (inside the next one, or between). */
    killAfter(n: number, extraMs: number) {
      commits = 0;
      killAt = { commits: n, extraMs };
    },
    get killed() {
      return killed;
    },
    async stop() {
      kill();
      await exited;
    },
    async request<T>(op: 'stats' | 'touch', n?: number): Promise<T> {
      const id = ++seq;
      const answer = await new Promise<unknown>((resolve) => {
        waiting.set(id, resolve);
        child.send({ seq: id, op, n });
      });
      if (answer instanceof Error) throw answer;
      return answer as T;
    },
  };
}
type ServerProcess = Awaited<ReturnType<typeof startServer>>;

/** A device whose transport follows the current server process (each restart listens on a new port). */
async function device(seed: number, pageRows: number) {
  let current: SyncTransport | undefined;
  let pulls = 0;
  const transport: SyncTransport = {
    push: (body, signal) => current!.push(body, signal),
    pull: (body, signal) => {
      pulls++;
      return current!.pull(body, signal);
    },
  };
  const dev = await deviceCrm({ user: 'anna', seed });
  const client = await createSyncClient({ crm: dev.crm, transport, start: false, pageRows });
  return {
    ...dev,
    client,
    connect(server: ServerProcess) {
      current = httpTransport(server.url, { headers: () => ({ 'x-user': 'anna' }), timeoutMs: 20_000 });
    },
    get pulls() {
      return pulls;
    },
  };
}

/** A tiny seeded generator (xorshift), so a failing run can be replayed from its printed seed. */
function rng(seed: number) {
  let s = seed || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

/**
 * Runs `syncNow` against server processes killed at random commits until one cycle completes, restarting on
 * the same file after each kill. Returns the last (running) process and what each restart found.
 */
async function syncThroughKills(file: string, dev: Awaited<ReturnType<typeof device>>, options: { kills: number; maxCommit: number; delayMs: number; random: (n: number) => number; afterRestart?: (server: ServerProcess) => Promise<void> }) {
  const restarts: Stats[] = [];
  for (let attempt = 0; ; attempt++) {
    const pullsBefore = dev.pulls;
    const server = await startServer(file, { delayMs: options.delayMs });
    if (attempt > 0) {
      restarts.push(await server.request<Stats>('stats'));
      await options.afterRestart?.(server);
    }
    dev.connect(server);
    const killing = attempt < options.kills;
    if (killing) server.killAfter(1 + options.random(options.maxCommit), options.random(options.delayMs));
    const outcome = await dev.client.syncNow().then(() => 'synced' as const, (error: { code?: string }) => error.code ?? 'error');
    if (outcome === 'synced' && !server.killed) return { server, restarts, finalPulls: dev.pulls - pullsBefore };
    expect(outcome === 'synced' || outcome === 'STORAGE', `attempt ${attempt}: ${outcome}`).toBe(true);
    expect(killing, `attempt ${attempt} failed without a kill`).toBe(true);
    await server.stop();
  }
}

describe('a sync server killed with SIGKILL and restarted on its SQLite file', () => {
  it('mid-push: 100 commands, each applied exactly once, none lost; the device converges', async () => {
    const seed = Number(process.env.SYNC_CRASH_SEED ?? Date.now() % 100_000);
    const random = rng(seed);
    const file = join(dir, `push-${seed}.db`);
    const first = await startServer(file, { delayMs: 0, seedDeals: 4 });
    const dev = await device(11, 500);
    dev.connect(first);
    await dev.client.syncNow();
    await first.stop();

    // Offline: 100 commands over 4 deals — notes (device-chosen ids), postpones (each creates or moves a
    // follow-up task with derived ids; counted per deal), renames.
    const deals = (await dev.crm.deals.list({ limit: 10 })).items.map((d) => d.id);
    expect(deals).toHaveLength(4);
    const postpones = new Map<string, number>();
    const notes: string[] = [];
    for (let i = 0; i < 100; i++) {
      const deal = deals[random(4)]!;
      const kind = random(3);
      if (kind === 0) notes.push((await dev.client.crm.activities.log({ kind: 'note', dealId: deal, outcome: `note ${i}` })).id);
      else if (kind === 1) {
        await dev.client.crm.deals.postpone(deal, { until: new Date(Date.UTC(2027, 0, 1 + i, 9)).toISOString() });   // later than any earlier one
        postpones.set(deal, (postpones.get(deal) ?? 0) + 1);
      } else await dev.client.crm.deals.update(deal, { title: `Deal renamed ${i}` });
    }
    expect(dev.client.status().unpushed).toBe(100);

    // Each push command is one transaction (plus the client row's): kill within the first ~60 commits.
    const { server, restarts } = await syncThroughKills(file, dev, { kills: 4, maxCommit: 60, delayMs: 16, random });
    const midPush = restarts.filter((s) => s.clients[0] && s.clients[0].lastSeq > 0 && s.clients[0].lastSeq < 100);
    expect(midPush.length, `seed ${seed}: no kill landed inside the push (${restarts.map((s) => s.clients[0]?.lastSeq).join(', ')})`).toBeGreaterThan(0);
    // lastSeq never goes back across kills: committed verdicts survive.
    const seen = restarts.map((s) => s.clients[0]?.lastSeq ?? 0);
    expect(seen, `seed ${seed}`).toEqual([...seen].sort((a, b) => a - b));

    const stats = await server.request<Stats>('stats');
    expect(stats.clients).toHaveLength(1);
    expect(stats.clients[0]!.lastSeq).toBe(100);
    expect(stats.clients[0]!.rejected).toEqual([]);
    expect(dev.client.status().rejected).toEqual([]);
    // Exactly once: one event per command, each device-made note stored once, postpone counts match.
    const total = [...postpones.values()].reduce((a, b) => a + b, 0);
    expect(stats.events['deal.postponed'] ?? 0, `seed ${seed}`).toBe(total);
    expect(stats.events['activity.logged'] ?? 0, `seed ${seed}`).toBe(notes.length);
    expect([...stats.activityIds].sort()).toEqual([...notes].sort());
    const fresh = await device(12, 500);
    fresh.connect(server);
    await fresh.client.syncNow();
    for (const deal of deals) expect((await fresh.crm.deals.get(deal)).postponeCount ?? 0, `seed ${seed}`).toBe(postpones.get(deal) ?? 0);
    // Converged: the device equals a fresh device of the server, with nothing pending or shadowed.
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(fresh.inner));
    expect(dev.client.status()).toMatchObject({ pending: 0, unpushed: 0 });
    expect(await own(dev.inner, 'syncShadow')).toEqual([]);
    await server.stop();
  }, 240_000);

  it('mid-pull: a paged initial sync killed at random pages resumes from its checkpoint and ends equal, changes made meanwhile included', async () => {
    const seed = Number(process.env.SYNC_CRASH_SEED ?? Date.now() % 100_000);
    const random = rng(seed + 1);
    const file = join(dir, `pull-${seed}.db`);
    const first = await startServer(file, { delayMs: 0, seedDeals: 300 });
    await first.stop();
    const whole = await device(21, 20);
    const dev = await device(22, 20);

    // A pull page is one read transaction: kill after 2–9 pages; between restarts the server renames deals.
    const { server, restarts, finalPulls } = await syncThroughKills(file, dev, {
      kills: 3, maxCommit: 8, delayMs: 16, random,
      afterRestart: async (s) => void (await s.request('touch', 5)),
    });
    expect(restarts).toHaveLength(3);
    whole.connect(server);
    await whole.client.syncNow();
    // Resumed, not restarted: the final cycle fetched fewer pages than a whole sync of the same data.
    expect(finalPulls, `seed ${seed}`).toBeLessThan(whole.pulls);
    expect(await syncedRows(dev.inner)).toEqual(await syncedRows(whole.inner));
    const renamed = (await dev.crm.deals.list({ limit: 500 })).items.filter((d) => d.title.endsWith('(renamed)'));
    expect(renamed.length).toBeGreaterThan(0);
    expect(dev.client.status().initialSync).toMatchObject({ done: true });
    await server.stop();
  }, 240_000);
});

// Feasibility of the `scopeTeam` design for issue 11's team-scope figure, on plain better-sqlite3 (no
// crmkit): 1M deal-like rows, 50 owners in teams of 5, newest-first pages of 51 rows.
//   A  no policy:              tenant_id = ? ORDER BY created_at DESC, id LIMIT 51
//   B  today's team scope:     … AND owner_id IN (5 owners)              (index tenant, created_at DESC, id, owner_id)
//   C  scopeTeam, one key:     … AND scope_team IN (?) AND owner_id IN (…) (index tenant, scope_team, created_at DESC, id)
//   D  scopeTeam, three keys:  what a user in several teams (one key per team set) would cost
//
//   pnpm --filter @crmkit/storage-sqlite exec tsx bench/scope-team-raw.ts  (from the package: pnpm exec tsx …) [--rows 1000000] [--work DIR]
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const rows = Number(arg('rows') ?? 1_000_000);
const work = arg('work');
const dir = work ?? mkdtempSync(join(tmpdir(), 'crmkit-scope-team-'));
const file = join(dir, `scope-team-${rows}.db`);
const fresh = !existsSync(file);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('cache_size = -16384');

if (fresh) {
  db.exec(`CREATE TABLE deal (tenant_id TEXT NOT NULL, id TEXT NOT NULL, created_at TEXT, owner_id TEXT, scope_team TEXT, doc TEXT, PRIMARY KEY (tenant_id, id))`);
  const insert = db.prepare('INSERT INTO deal VALUES (?, ?, ?, ?, ?, ?)');
  // A seedable LCG: the same data on every run.
  let seed = 42;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const filler = 'x'.repeat(600);
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const owner = Math.floor(random() * 50);
      const at = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 5 * 365 * 86_400_000)).toISOString();
      const id = `deal_${i.toString(36).padStart(8, '0')}`;
      insert.run('bench', id, at, `u${owner}`, `team${Math.floor(owner / 5)}`, JSON.stringify({ id, title: `Deal ${i}`, filler }));
    }
  })();
  db.exec('CREATE INDEX deal__newest_owner ON deal (tenant_id, created_at DESC, id, owner_id)');
  db.exec('CREATE INDEX deal__scope_team ON deal (tenant_id, scope_team, created_at DESC, id)');
  db.exec('ANALYZE');
}

const team = ['u5', 'u6', 'u7', 'u8', 'u9'];
const queries = {
  A: [`SELECT doc FROM deal WHERE tenant_id = ? ORDER BY created_at DESC, id LIMIT 51`, ['bench']],
  B: [`SELECT doc FROM deal WHERE tenant_id = ? AND owner_id IN (?, ?, ?, ?, ?) ORDER BY created_at DESC, id LIMIT 51`, ['bench', ...team]],
  C: [`SELECT doc FROM deal WHERE tenant_id = ? AND scope_team IN (?) AND owner_id IN (?, ?, ?, ?, ?) ORDER BY created_at DESC, id LIMIT 51`, ['bench', 'team1', ...team]],
  D: [`SELECT doc FROM deal WHERE tenant_id = ? AND scope_team IN (?, ?, ?) AND owner_id IN (?, ?, ?, ?, ?) ORDER BY created_at DESC, id LIMIT 51`, ['bench', 'team1', 'team1|team2', 'team1|team3', ...team]],
} as const;

const statements = Object.fromEntries(Object.entries(queries).map(([k, [sql]]) => [k, db.prepare(sql)])) as Record<keyof typeof queries, Database.Statement>;
for (const [k, [sql, params]] of Object.entries(queries)) {
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  console.log(`${k}: ${plan.map((p) => p.detail).join(' / ')}`);
}
const ids = (k: keyof typeof queries): string => JSON.stringify((statements[k].all(...queries[k][1]) as { doc: string }[]).map((r) => r.doc));
if (ids('B') !== ids('C')) throw new Error('B and C disagree');

// Interleaved rounds, median per query: the machine's load hits every query alike.
const samples: Record<string, number[]> = { A: [], B: [], C: [], D: [] };
const rounds = Number(arg('rounds') ?? 2000);
for (let r = 0; r < rounds; r++) {
  for (const k of Object.keys(queries) as (keyof typeof queries)[]) {
    const t = process.hrtime.bigint();
    const out = statements[k].all(...queries[k][1]) as { doc: string }[];
    for (const row of out) JSON.parse(row.doc);
    samples[k]!.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a = median(samples.A!);
console.log(`\n${rows} rows, ${rounds} interleaved rounds, median ms (ratio to A)`);
for (const k of Object.keys(samples)) console.log(`${k}: ${median(samples[k]!).toFixed(4)} ms (${(median(samples[k]!) / a).toFixed(3)}×)`);
db.close();
if (!work) rmSync(dir, { recursive: true, force: true });

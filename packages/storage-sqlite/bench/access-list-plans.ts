// Query plans for bench:access's team-scoped deal list, timed on raw better-sqlite3 (no crm): which
// SQL shape could bring `owner_id IN (team) ORDER BY created_at DESC, id LIMIT 51` near the page
// without a filter. The scope page walks `deal__newest_owner` past the other teams' entries (about
// ten per card); the alternatives seek each owner's newest entries in a per-owner index instead.
// The per-owner index is created (and ANALYZEd) for the run and dropped after it.
// `--team-key` also times a team key stored on each deal (a `scope_team` column filled from an
// owner → team table, the index `tenant_id, scope_team, created_at, id DESC`), the plan of a stamped
// key; the column, table and index are dropped after the run (the fill takes about 20 s on 1M deals).
//
//   pnpm --filter @crmkit/storage-sqlite exec tsx bench/access-list-plans.ts /tmp/crmkit-bench/access-1000000.db [rounds] [--team-key]
//
// Prints the median ms per page (documents parsed, as the adapter does) and the ratio to the page
// without a filter. Not a test.
import Database from 'better-sqlite3';

const file = process.argv[2];
if (!file) throw new Error('usage: access-list-plans.ts <database made by bench:access>');
const rounds = Number(process.argv[3]?.startsWith('--') ? 1500 : (process.argv[3] ?? 1500));
const teamKey = process.argv.includes('--team-key');
const db = new Database(file);
const TEAM = ['u5', 'u6', 'u7', 'u8', 'u9'];
const LIMIT = 51;
const PAGE = (where: string) => `SELECT "t"."doc" FROM "deal" AS "t" WHERE "t"."tenant_id" = ?${where} ORDER BY "t"."created_at" DESC, "t"."id" ASC LIMIT ${LIMIT}`;
type Raw = unknown[];

db.exec('CREATE INDEX IF NOT EXISTS "deal__perf_owner_created" ON "deal" ("tenant_id", "owner_id", "created_at", "id" DESC)');
db.exec('ANALYZE "deal__perf_owner_created"');
if (teamKey) {
  db.exec('ALTER TABLE "deal" ADD COLUMN "perf_scope_team"');
  db.exec('CREATE TABLE "perf_owner_team" ("tenant_id" TEXT NOT NULL, "user_id" TEXT NOT NULL, "team_key" TEXT NOT NULL, PRIMARY KEY ("tenant_id", "user_id")) WITHOUT ROWID');
  const member = db.prepare('INSERT INTO "perf_owner_team" VALUES (?, ?, ?)');
  for (let i = 0; i < 50; i++) member.run('bench', `u${i}`, `team${Math.floor(i / 5)}`);
  db.exec('UPDATE "deal" SET "perf_scope_team" = (SELECT "team_key" FROM "perf_owner_team" AS o WHERE o."tenant_id" = "deal"."tenant_id" AND o."user_id" = "deal"."owner_id")');
  db.exec('CREATE INDEX "deal__perf_team_newest" ON "deal" ("tenant_id", "perf_scope_team", "created_at", "id" DESC, "owner_id")');
  db.exec('ANALYZE "deal__perf_team_newest"');
}
try {
  const root = db.prepare(PAGE('')).raw(true);
  const scope = db.prepare(PAGE(` AND "t"."owner_id" IN (${TEAM.map(() => '?').join(', ')})`)).raw(true);
  const ored = db.prepare(PAGE(` AND (${TEAM.map(() => '"t"."owner_id" = ?').join(' OR ')})`)).raw(true);
  // One arm per owner, each its newest 51 keys from the per-owner index; SQLite merges the arms, then reads 51 documents.
  const arm = `SELECT * FROM (SELECT "created_at" AS c, "id" AS i, rowid AS r FROM "deal" WHERE "tenant_id" = ? AND "owner_id" = ? ORDER BY "created_at" DESC, "id" ASC LIMIT ${LIMIT})`;
  const union = db.prepare(`SELECT "t"."doc" FROM (${TEAM.map(() => arm).join(' UNION ALL ')} ORDER BY c DESC, i ASC LIMIT ${LIMIT}) AS k JOIN "deal" AS "t" ON "t".rowid = k.r ORDER BY k.c DESC, k.i ASC`).raw(true);
  // The same merge in JavaScript: five index-only statements, a sort of their keys, one read of 51 documents by rowid.
  const ownerKeys = db.prepare(`SELECT "created_at", "id", rowid FROM "deal" INDEXED BY "deal__perf_owner_created" WHERE "tenant_id" = ? AND "owner_id" = ? ORDER BY "created_at" DESC, "id" ASC LIMIT ${LIMIT}`).raw(true);
  const docs = db.prepare(`SELECT rowid, "doc" FROM "deal" WHERE rowid IN (${Array.from({ length: LIMIT }, () => '?').join(', ')})`).raw(true);
  const byKey = (a: Raw, b: Raw) => (a[0]! < b[0]! ? 1 : a[0]! > b[0]! ? -1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0);
  const merged = (): Raw[] => {
    const keys: Raw[] = [];
    for (const owner of TEAM) for (const row of ownerKeys.all('bench', owner) as Raw[]) keys.push(row);
    const top = keys.sort(byKey).slice(0, LIMIT);
    const at = new Map(top.map((k, i) => [k[2], i]));
    const out: Raw[] = new Array(top.length);
    for (const [rowid, doc] of docs.all(...top.map((k) => k[2]), ...Array.from({ length: LIMIT - top.length }, () => null)) as Raw[]) out[at.get(rowid)!] = [doc];
    return out;
  };
  const plans: Record<string, () => Raw[]> = {
    'no filter': () => root.all('bench') as Raw[],
    'owner_id IN (team) (today)': () => scope.all('bench', ...TEAM) as Raw[],
    'owner_id = ? OR …': () => ored.all('bench', ...TEAM) as Raw[],
    'UNION ALL of per-owner ranges, merged': () => union.all(...TEAM.flatMap((u) => ['bench', u])) as Raw[],
    'per-owner ranges merged in JS': merged,
  };
  if (teamKey) {
    // The owner test stays beside the key: a stale key could only hide a deal, never show one.
    const keyed = db.prepare(PAGE(` AND "t"."perf_scope_team" = ? AND "t"."owner_id" IN (${TEAM.map(() => '?').join(', ')})`)).raw(true);
    plans['stored team key (perf_scope_team = ? AND owner_id IN (team))'] = () => keyed.all('bench', 'team1', ...TEAM) as Raw[];
  }
  const expected = JSON.stringify(plans['owner_id IN (team) (today)']!());
  for (const [name, run] of Object.entries(plans).slice(2)) if (JSON.stringify(run()) !== expected) throw new Error(`${name} returns another page`);
  const times = Object.fromEntries(Object.keys(plans).map((k) => [k, [] as number[]]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(plans)) {
      const t = performance.now();
      for (const row of run()) JSON.parse(row[0] as string);
      times[name]!.push(performance.now() - t);
    }
  }
  const median = (xs: number[]) => [...xs].slice(Math.floor(rounds / 10)).sort((a, b) => a - b)[Math.floor((rounds - Math.floor(rounds / 10)) / 2)]!;
  const base = median(times['no filter']!);
  console.log('| plan | median ms | ratio to no filter |\n|---|---|---|');
  for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${median(xs).toFixed(3)} | ${(median(xs) / base).toFixed(2)}× |`);
} finally {
  db.exec('DROP INDEX IF EXISTS "deal__perf_owner_created"');
  if (teamKey) {
    db.exec('DROP INDEX IF EXISTS "deal__perf_team_newest"');
    db.exec('ALTER TABLE "deal" DROP COLUMN "perf_scope_team"');
    db.exec('DROP TABLE IF EXISTS "perf_owner_team"');
  }
  db.close();
}

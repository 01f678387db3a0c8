// The funnel report of crmkit on SQLite vs a hand-written SQL query, in the same run (issue 8):
// 1M deals and 5M stage-history rows; the report of one pipeline over one year of entries.
//
//   pnpm --filter @crmkit/storage-sqlite bench:funnel
//   … -- --json funnel.json --work /tmp/crmkit-funnel   # keep (and later reuse) the database
//   … -- --deals 100000                                  # smaller data for a quick look
//
// Not a test: nothing here asserts; it checks that both sides give the same answer before timing.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { reports } from '@crmkit/core/reports';
import { CRM_STORAGE_SCHEMA, type Row } from '@crmkit/core/storage';
import { createSqliteStorage } from '../src/index.js';
import { buildLayout } from '../src/table-layout.js';
import { dealRow, OPEN_STAGES, seeded } from './bench-data.js';
import { type BenchEntry, cpuMs, entry, log, missedBudgets, peakRssMb, printTable, round, withCpu } from './measure.js';
import { rawInserter, rawPragmas } from './raw-sqlite.js';

const TENANT = 'bench';
const DAY = 86_400_000;
const WINDOW = { from: '2024-07-01T00:00:00.000Z', to: '2025-07-01T00:00:00.000Z' };
const layout = buildLayout(CRM_STORAGE_SCHEMA);
const table = (entity: string) => layout.entities.get(entity)!.table.name;
const stages = [...OPEN_STAGES.map((key) => ({ key, name: key })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * Stage visits of one deal: it moves forward through the open stages (sometimes back one), and closes
 * won or lost, or stays open. About five visits per deal; every visit is what crmkit would have written.
 */
function visitsOf(deal: Row, rnd: () => number): Row[] {
  const finalStage = deal.stageKey as string;
  const closed = finalStage === 'won' || finalStage === 'lost' ? finalStage : undefined;
  const lastOpen = closed ? Math.floor(rnd() * OPEN_STAGES.length) : OPEN_STAGES.indexOf(finalStage as (typeof OPEN_STAGES)[number]);
  const path: string[] = [];
  for (let i = 0; i <= lastOpen; i++) {
    path.push(OPEN_STAGES[i]!);
    if (i > 0 && rnd() < 0.2) path.push(OPEN_STAGES[i - 1]!, OPEN_STAGES[i]!); // moved back, then forward again
  }
  if (closed) path.push(closed);
  let at = Date.parse(deal.createdAt as string);
  return path.map((stageKey, i) => {
    const next = path[i + 1];
    const enteredAt = new Date(at).toISOString();
    const duration = Math.floor(rnd() * 20 * DAY);
    const exitKind = next === undefined ? undefined : next === 'won' ? 'won' : next === 'lost' ? 'lost' : OPEN_STAGES.indexOf(next as never) < OPEN_STAGES.indexOf(stageKey as never) ? 'movedBack' : 'advanced';
    const visit: Record<string, unknown> = {
      id: `sv_${deal.id}_${i}`, tenantId: TENANT, version: 1, createdAt: enteredAt, updatedAt: enteredAt,
      dealId: deal.id, pipelineId: deal.pipelineId, stageKey, enteredAt, ownerId: deal.ownerId, postponeCount: Math.floor(rnd() * 3),
    };
    if (exitKind) {
      at += duration;
      Object.assign(visit, { exitedAt: new Date(at).toISOString(), exitKind, toStageKey: next, durationMs: duration });
    }
    if (closed) visit.closedAs = closed;
    return visit as Row;
  });
}

async function build(file: string, deals: number, pipelines: number): Promise<string> {
  if (existsSync(file)) {
    log(`reusing ${file}`);
    const db = new Database(file, { readonly: true });
    const id = db.prepare(`SELECT id FROM "${table('pipeline')}" WHERE tenant_id = ? ORDER BY created_at, id LIMIT 1`).pluck().get(TENANT) as string;
    db.close();
    return id;
  }
  const storage = createSqliteStorage({ filename: file });
  const crm = await createCrm({ storage, tenantId: TENANT, logger: silentLogger, random: { seed: 3 } });
  const ids: string[] = [];
  for (let p = 0; p < pipelines; p++) ids.push((await crm.pipelines.create({ name: `Pipeline ${p}`, stages })).id);
  await crm.close();
  const db = new Database(file);
  rawPragmas(db);
  const insertDeal = rawInserter(db, layout, 'deal');
  const insertVisit = rawInserter(db, layout, 'stageVisit');
  const rnd = seeded(7);
  let visits = 0;
  log(`writing ${deals} deals and their stage history over ${pipelines} pipelines …`);
  for (let start = 0; start < deals; start += 50_000) {
    db.transaction(() => {
      for (let i = start; i < Math.min(deals, start + 50_000); i++) {
        const r = rnd();
        const stage = r < 0.4 ? OPEN_STAGES[Math.floor((r / 0.4) * OPEN_STAGES.length)]! : r < 0.7 ? 'won' : 'lost';
        const deal = dealRow(i, TENANT, ids[i % pipelines]!, stage, rnd);
        insertDeal(TENANT, deal);
        for (const visit of visitsOf(deal, rnd)) {
          insertVisit(TENANT, visit);
          visits++;
        }
      }
    })();
    log(`  ${Math.min(deals, start + 50_000)}/${deals} deals, ${visits} visits`);
  }
  db.exec('ANALYZE');
  db.close();
  return ids[0]!;
}

/** The hand-written query: one statement, conditional counts and a window-function median. */
function handWritten(db: Database.Database) {
  const sv = table('stageVisit');
  const statement = db.prepare(`
    WITH v AS (
      SELECT stage_key, exit_kind, closed_as, duration_ms,
        ROW_NUMBER() OVER (PARTITION BY stage_key ORDER BY (duration_ms IS NULL), duration_ms) AS rn,
        COUNT(duration_ms) OVER (PARTITION BY stage_key) AS cnt
      FROM "${sv}" WHERE tenant_id = ? AND pipeline_id = ? AND entered_at >= ? AND entered_at < ?
    )
    SELECT stage_key, COUNT(*) AS entered,
      SUM(exit_kind IN ('advanced', 'won')) AS advanced, SUM(exit_kind = 'lost') AS lost, SUM(exit_kind = 'movedBack') AS moved_back,
      SUM(exit_kind IN ('stageRemoved', 'removed', 'reopened')) AS other, SUM(exit_kind IS NULL) AS in_stage,
      SUM(closed_as = 'won') AS won, AVG(duration_ms) AS mean_ms,
      AVG(CASE WHEN duration_ms IS NOT NULL AND rn * 2 IN (cnt, cnt + 1, cnt + 2) THEN duration_ms END) AS median_ms
    FROM v GROUP BY stage_key ORDER BY stage_key`);
  return (pipelineId: string) => statement.all(TENANT, pipelineId, WINDOW.from, WINDOW.to) as Record<string, number | string | null>[];
}

async function queryPhase(file: string, pipelineId: string): Promise<{ entries: BenchEntry[] }> {
  const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: TENANT, logger: silentLogger, features: [reports()] });
  const raw = new Database(file, { readonly: true });
  raw.pragma('cache_size = -16384');
  const rawFunnel = handWritten(raw);
  const report = () => crm.reports.funnel({ pipelineId, ...WINDOW });

  // Same answer first.
  const [mine, theirs] = [await report(), rawFunnel(pipelineId)];
  for (const row of theirs) {
    const stage = mine.stages.find((s) => s.stageKey === row.stage_key)!;
    const n = (v: unknown) => Number(v ?? 0);
    const same = stage.entered === n(row.entered) && stage.advanced === n(row.advanced) && stage.lost === n(row.lost) && stage.inStage === n(row.in_stage) && stage.movedBack === n(row.moved_back) &&
      Math.abs((stage.meanTimeMs ?? 0) - Number(row.mean_ms ?? 0)) < 1e-6 && Math.abs((stage.medianTimeMs ?? 0) - Number(row.median_ms ?? 0)) < 1e-6;
    if (!same) throw new Error(`funnel differs for ${String(row.stage_key)}: ${JSON.stringify({ stage, row })}`);
  }
  log(`entries in the window: ${theirs.reduce((n, r) => n + Number(r.entered), 0)}; warm-up, then 9 runs each, alternating …`);
  await report();
  rawFunnel(pipelineId);
  const crmTimes: number[] = [];
  const rawTimes: number[] = [];
  let crmCpu = 0;
  let rawCpu = 0;
  for (let i = 0; i < 9; i++) {
    let cpu = cpuMs();
    let t = performance.now();
    await report();
    crmTimes.push(performance.now() - t);
    crmCpu += cpuMs() - cpu;
    cpu = cpuMs();
    t = performance.now();
    rawFunnel(pipelineId);
    rawTimes.push(performance.now() - t);
    rawCpu += cpuMs() - cpu;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  await crm.close();
  raw.close();
  return { entries: [withCpu(entry('funnel report, one pipeline, one year of stage entries (median of 9)', median(crmTimes), median(rawTimes), 1.5), crmCpu, rawCpu)] };
}

async function rssPhase(file: string, pipelineId: string): Promise<{ entries: BenchEntry[] }> {
  const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: TENANT, logger: silentLogger, features: [reports()] });
  for (let i = 0; i < 5; i++) await crm.reports.funnel({ pipelineId, ...WINDOW });
  await crm.reports.funnel({ pipelineId, from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' });
  await crm.close();
  return { entries: [{ name: 'peak RSS of a process running funnel reports with crmkit (MB)', crmkit_ms: null, raw_ms: null, ratio: null, target: '< 250 MB', budget_mb: 250, peak_rss_mb: round(await peakRssMb(), 1) }] };
}

function child(args: string[]): Promise<{ entries: BenchEntry[] }> {
  return new Promise((resolve, reject) => {
    const c = fork(process.argv[1]!, args, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c.on('message', (m) => resolve(m as { entries: BenchEntry[] }));
    c.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`child exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const phase = arg('phase');
  if (phase) {
    process.send!(phase === 'query' ? await queryPhase(arg('db')!, arg('pipeline')!) : await rssPhase(arg('db')!, arg('pipeline')!));
    return;
  }
  const deals = Number(arg('deals') ?? 1_000_000);
  const pipelines = Number(arg('pipelines') ?? 20);
  const work = arg('work');
  if (work) mkdirSync(work, { recursive: true });
  const dir = work ?? mkdtempSync(join(tmpdir(), 'crmkit-funnel-'));
  try {
    const file = join(dir, `funnel-${deals}-${pipelines}.db`);
    const pipelineId = await build(file, deals, pipelines);
    const db = new Database(file, { readonly: true });
    const visits = db.prepare(`SELECT COUNT(*) FROM "${table('stageVisit')}"`).pluck().get() as number;
    db.close();
    log(`database: ${deals} deals, ${visits} stage visits; querying in a fresh process …`);
    const entries = [...(await child(['--phase', 'query', '--db', file, '--pipeline', pipelineId])).entries];
    log('peak RSS of crmkit alone, in another fresh process …');
    entries.push(...(await child(['--phase', 'rss', '--db', file, '--pipeline', pipelineId])).entries);
    printTable(entries, `crmkit funnel report vs hand-written SQL — ${deals} deals, ${visits} stage visits, ${pipelines} pipelines; node ${process.version}`);
    const json = arg('json');
    if (json) writeFileSync(json, `${JSON.stringify(entries, null, 2)}\n`);
    const missed = entries.filter((e) => missedBudgets(e).length > 0);
    if (missed.length) {
      console.error(`budgets missed: ${missed.map((e) => `${e.name} (${missedBudgets(e).join('; ')})`).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    if (!work) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

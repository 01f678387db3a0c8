// Importing contacts from a CSV file (issue 16): `crm.import.run` with `csvSource` (decode, parse,
// map, validate, chunked transactions with a checkpoint each) against the validated create-many path
// of the very same rows (`crm.imports.contacts`, one transaction), on SQLite files.
//
//   pnpm --filter @crmkit/storage-sqlite bench:import
//   … -- --contacts 20000 --json import.json
//
// Budget (printed beside the figures; the process exits 1 when it is missed): the CSV import takes at
// most 1.5× the create-many time. Two rounds in alternating order on fresh files; each side's best counts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCrm, silentLogger } from '@crmkit/core';
import { imports } from '@crmkit/core/imports';
import { csvSource } from '@crmkit/core/csv';
import { createSqliteStorage } from '../src/index.js';
import { cpuMs, entry, log, missedBudgets, printTable, round, time, withCpu, type BenchEntry } from './measure.js';

const TENANT = 'bench';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const n = Number(arg('contacts') ?? 100_000);
const COUNTRIES = ['DE', 'AT', 'CH', 'FR', 'GB'];

/** The rows as API inputs, and the same rows as a semicolon CSV a German spreadsheet would save. */
function data(count: number): { inputs: { name: string; email: string; jobTitle: string; country: string; tags: string[] }[]; csv: Uint8Array } {
  const inputs = [];
  const lines = ['Name;E-Mail;Position;Land;Schlagworte'];
  for (let i = 0; i < count; i++) {
    const row = { name: `Kontakt ${i} "Müller"`, email: `kontakt${i}@beispiel.de`, jobTitle: i % 3 ? 'Einkauf' : 'Geschäftsführung; Vertrieb', country: COUNTRIES[i % 5]!, tags: i % 2 ? ['messe'] : ['web', 'newsletter'] };
    inputs.push(row);
    const q = (s: string) => (/[;"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    lines.push([row.name, row.email, row.jobTitle, row.country, row.tags.join('|')].map(q).join(';'));
  }
  return { inputs, csv: new TextEncoder().encode(`\uFEFF${lines.join('\r\n')}\r\n`) };
}

async function openCrm(file: string) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  return createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: TENANT, logger: silentLogger, actor: { userId: 'bench' }, random: { seed: 7 }, features: [imports()] });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crmkit-import-bench-'));
  const { inputs, csv } = data(n);
  log(`${n} contacts, CSV ${round(csv.byteLength / 1e6, 1)} MB`);
  let importBest = Infinity;
  let manyBest = Infinity;
  let importCpu = Infinity;
  let manyCpu = Infinity;
  const mapping = { name: 'Name', email: 'E-Mail', jobTitle: 'Position', country: 'Land', tags: { column: 'Schlagworte', as: 'list' as const, separator: '|' } };
  const runImport = async (round: number) => {
    const crm = await openCrm(join(dir, `import-${round}.db`));
    log(`round ${round + 1}: crm.import.run(csv of ${n} contacts) …`);
    const cpu = cpuMs();
    let created = 0;
    importBest = Math.min(importBest, await time(async () => {
      const report = await crm.import.run({ entity: 'contact', csv: csvSource(csv), mapping, report: 'none', chunkSize: 1000 });
      created = report.counts.created;
    }));
    importCpu = Math.min(importCpu, cpuMs() - cpu);
    if (created !== n) throw new Error(`imported ${created} of ${n}`);
    await crm.close();
  };
  const runMany = async (round: number) => {
    const crm = await openCrm(join(dir, `many-${round}.db`));
    log(`round ${round + 1}: crm.imports.contacts(${n}) …`);
    const cpu = cpuMs();
    manyBest = Math.min(manyBest, await time(() => crm.imports.contacts(inputs)));
    manyCpu = Math.min(manyCpu, cpuMs() - cpu);
    await crm.close();
  };
  await runImport(0);
  await runMany(0);
  await runMany(1);
  await runImport(1);
  rmSync(dir, { recursive: true, force: true });
  const entries: BenchEntry[] = [
    withCpu(entry(`CSV import of ${n} contacts vs validated create-many of the same rows`, importBest, manyBest, 1.5, { import_us_per_row: round((importBest / n) * 1000, 1), create_many_us_per_row: round((manyBest / n) * 1000, 1) }), importCpu, manyCpu),
  ];
  printTable(entries, `crm.import.run (CSV, chunks of 1000, a checkpoint per chunk) vs crm.imports.contacts — "raw" is create-many`);
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify(entries, null, 2));
  if (entries.some((e) => missedBudgets(e).length)) process.exit(1);
}

await main();

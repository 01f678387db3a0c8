import { cpus, loadavg } from 'node:os';

/** One line of the benchmark table / JSON. */
export interface BenchEntry {
  readonly name: string;
  readonly crmkit_ms: number | null;
  readonly raw_ms: number | null;
  readonly ratio: number | null;
  readonly target?: string;
  /** The entry holds when `ratio` is at most this. */
  readonly budget_ratio?: number;
  /** … and `crmkit_p95_ms` at most this. */
  readonly budget_p95_ms?: number;
  /** … and `peak_rss_mb` below this. */
  readonly budget_mb?: number;
  readonly [extra: string]: unknown;
}

/** The budgets an entry misses (empty: it holds, or it has none). */
export function missedBudgets(e: BenchEntry): string[] {
  const missed: string[] = [];
  if (e.budget_ratio !== undefined && (e.ratio === null || e.ratio > e.budget_ratio)) missed.push(`ratio ${e.ratio} > ${e.budget_ratio}`);
  if (e.budget_p95_ms !== undefined && !((e.crmkit_p95_ms as number) <= e.budget_p95_ms)) missed.push(`p95 ${String(e.crmkit_p95_ms)} ms > ${e.budget_p95_ms} ms`);
  if (e.budget_mb !== undefined && !((e.peak_rss_mb as number) < e.budget_mb)) missed.push(`peak RSS ${String(e.peak_rss_mb)} MB ≥ ${e.budget_mb} MB`);
  return missed;
}

/** Prints a markdown table of entries with their budgets and verdicts. */
export function printTable(entries: readonly BenchEntry[], context: string): void {
  const rows = entries.map((e) => {
    const missed = missedBudgets(e);
    const budgeted = e.budget_ratio !== undefined || e.budget_p95_ms !== undefined || e.budget_mb !== undefined;
    return [
      e.name,
      e.crmkit_ms === null ? '' : String(e.crmkit_ms),
      e.raw_ms === null ? '' : String(e.raw_ms),
      e.ratio === null ? (e.peak_rss_mb !== undefined ? `${String(e.peak_rss_mb)} MB` : e.calls_per_s !== undefined ? `${String(e.calls_per_s)}/s` : '') : `${e.ratio}×`,
      e.target ?? '',
      budgeted ? (missed.length ? `MISSED (${missed.join('; ')})` : 'ok') : '',
      e.cpu_ratio !== undefined ? `${String(e.cpu_ratio)}×` : '',
      e.crmkit_p95_ms !== undefined
        ? `p95 ${String(e.crmkit_p95_ms)} ms`
        : e.crmkit_us_per_call !== undefined
          ? `${String(e.crmkit_us_per_call)} µs/call`
          : e.load !== undefined
            ? String(e.load)
            : e.rounds !== undefined
              ? `rounds (crmkit/raw ms): ${String(e.rounds)}`
              : '',
    ];
  });
  const head = ['benchmark', 'crmkit ms', 'raw ms', 'ratio', 'budget', 'verdict', 'CPU-time ratio', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${context}\n`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('');
}

/** CPU time (user + system, all threads) of this process so far, in ms: steadier than wall time on a busy machine. */
export function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Adds CPU-time figures to an entry: `crmkit_cpu_ms`, `raw_cpu_ms`, `cpu_ratio`. */
export function withCpu(e: BenchEntry, crmkitCpuMs: number, rawCpuMs: number): BenchEntry {
  return { ...e, crmkit_cpu_ms: round(crmkitCpuMs), raw_cpu_ms: round(rawCpuMs), cpu_ratio: round(crmkitCpuMs / rawCpuMs, 3) };
}

/** Milliseconds of `fn`. */
export async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Per-call durations of `n` calls. */
export async function samples(n: number, fn: (i: number) => unknown | Promise<unknown>): Promise<number[]> {
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await fn(i);
    out[i] = performance.now() - started;
  }
  return out;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
export const mean = (values: readonly number[]) => sum(values) / values.length;

/** Rounds for display and JSON. */
export const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** An entry comparing crmkit with the raw baseline; `budget` is the ratio it must stay within. */
export function entry(name: string, crmkitMs: number, rawMs: number, budget: number | undefined, extra: Record<string, unknown> = {}): BenchEntry {
  return { name, crmkit_ms: round(crmkitMs), raw_ms: round(rawMs), ratio: round(crmkitMs / rawMs, 3), ...(budget === undefined ? {} : { target: `≤ ${budget}×`, budget_ratio: budget }), ...extra };
}

/** Peak resident set size of this process so far (Linux VmHWM), in MB; falls back to current RSS. */
export async function peakRssMb(): Promise<number> {
  try {
    const { readFileSync } = await import('node:fs');
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** The mean of the middle 80 % of `values` (a tenth dropped at each end): one slow call moves it little. */
export function trimmedMean(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 10);
  return mean(sorted.slice(cut, sorted.length - cut));
}

/** The machine's CPU count and 1-minute load average, as the tables print them: `2 CPUs, load 5.88`. */
export function machineLoad(): string {
  return `${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}`;
}

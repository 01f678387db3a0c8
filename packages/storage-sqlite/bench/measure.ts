/** One line of the benchmark table / JSON. */
export interface BenchEntry {
  readonly name: string;
  readonly crmkit_ms: number | null;
  readonly raw_ms: number | null;
  readonly ratio: number | null;
  readonly target?: string;
  readonly [extra: string]: unknown;
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

export function entry(name: string, crmkitMs: number, rawMs: number, target: string, extra: Record<string, unknown> = {}): BenchEntry {
  return { name, crmkit_ms: round(crmkitMs), raw_ms: round(rawMs), ratio: round(crmkitMs / rawMs, 3), target, ...extra };
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

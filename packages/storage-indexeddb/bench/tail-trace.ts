/**
 * Profiling aid behind `profile-board.ts --tail`: where the time of each read goes, from a Chromium trace.
 * For every user-timing measure `part#i` (see `tail` in profile-page.ts) it sums, inside the measure's
 * window, the renderer main thread's tasks (wall time, and the CPU time the thread really got: a task
 * whose wall time is far above its CPU time waited for a core), its garbage collections, and the work
 * of the browser-process threads that ran IndexedDB tasks (the backend). What is left of the window is
 * waiting: for the backend's replies to be scheduled, for a core.
 */
import type { CDPSession } from 'playwright-core';

interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  readonly tdur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly id?: string;
  readonly id2?: { local?: string };
  readonly args?: { name?: string };
}

const CATEGORIES = ['toplevel', 'blink.user_timing', 'v8', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'IndexedDB', '__metadata'];

/** Traces `run` and returns the trace events. */
export async function traced(cdp: CDPSession, run: () => Promise<void>): Promise<TraceEvent[]> {
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (data) => void events.push(...(data.value as unknown as TraceEvent[])));
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: CATEGORIES, recordMode: 'recordAsMuchAsPossible' } });
  await run();
  await cdp.send('Tracing.end');
  await complete;
  return events;
}

/** One read's window and what ran in it (ms). */
export interface ReadBreakdown {
  readonly part: string;
  readonly wall: number;
  /** Renderer main thread: task wall time, task CPU time, garbage collection. */
  readonly mainWall: number;
  readonly mainCpu: number;
  readonly gc: number;
  /** Browser-process threads that ran IndexedDB tasks: wall and CPU time, summed over the threads. */
  readonly idbWall: number;
  readonly idbCpu: number;
}

/** The events not nested in an earlier one of the same thread (tasks run inside tasks, a scavenge inside a GC). */
function outermost(events: readonly TraceEvent[]): TraceEvent[] {
  const end = new Map<string, number>();
  return [...events]
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0))
    .filter((e) => {
      const thread = `${e.pid}:${e.tid}`;
      if (e.ts < (end.get(thread) ?? -Infinity)) return false;
      end.set(thread, e.ts + (e.dur ?? 0));
      return true;
    });
}

const overlap = (start: number, end: number, e: TraceEvent) => Math.max(0, Math.min(end, e.ts + (e.dur ?? 0)) - Math.max(start, e.ts));

/** The breakdown of every measure in `events`. */
export function breakdown(events: readonly TraceEvent[]): ReadBreakdown[] {
  const threadName = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadName.set(`${e.pid}:${e.tid}`, e.args?.name ?? '');
  // The page's main thread: where its measures are.
  const mark = events.find((e) => e.cat.includes('blink.user_timing') && e.name.includes('#'));
  const main = mark && `${mark.pid}:${mark.tid}`;
  // Threads of other processes that ran IndexedDB work (the backend, on the browser's thread pool).
  const idbThreads = new Set(events.filter((e) => e.cat.includes('IndexedDB') && e.pid !== mark?.pid).map((e) => `${e.pid}:${e.tid}`));
  const top = (e: TraceEvent) => e.ph === 'X' && e.cat.includes('toplevel') && e.dur !== undefined;
  const mainTasks = outermost(events.filter((e) => top(e) && `${e.pid}:${e.tid}` === main));
  const idbTasks = outermost(events.filter((e) => top(e) && idbThreads.has(`${e.pid}:${e.tid}`)));
  const gcs = outermost(events.filter((e) => `${e.pid}:${e.tid}` === main && e.ph === 'X' && e.dur !== undefined && /^(MinorGC|MajorGC|V8\.GC)/.test(e.name)));
  console.log(`renderer main ${main}; IndexedDB work on ${[...idbThreads].map((t) => `${t} ${threadName.get(t) ?? '?'}`).join(', ')}`);
  const kinds = new Map<string, number[]>();
  for (const gc of gcs) (kinds.get(gc.name) ?? kinds.set(gc.name, []).get(gc.name)!).push((gc.dur ?? 0) / 1000);
  console.log(`garbage collections on the main thread: ${[...kinds].map(([name, d]) => `${name} ${d.length}x, ${d.reduce((a, b) => a + b, 0).toFixed(0)} ms, longest ${Math.max(...d).toFixed(1)} ms`).join('; ')}`);
  const begins = new Map<string, TraceEvent>();
  const out: ReadBreakdown[] = [];
  for (const e of events) {
    if (!e.cat.includes('blink.user_timing') || !e.name.includes('#')) continue;
    const key = `${e.name}:${e.id ?? e.id2?.local ?? ''}`;
    if (e.ph === 'b') begins.set(key, e);
    if (e.ph !== 'e' || !begins.has(key)) continue;
    const start = begins.get(key)!.ts;
    const end = e.ts;
    const sum = (list: readonly TraceEvent[], cpu: boolean) => list.reduce((n, t) => n + (overlap(start, end, t) && cpu ? ((t.tdur ?? 0) * overlap(start, end, t)) / (t.dur || 1) : overlap(start, end, t)), 0) / 1000;
    out.push({ part: e.name.split('#')[0]!, wall: (end - start) / 1000, mainWall: sum(mainTasks, false), mainCpu: sum(mainTasks, true), gc: sum(gcs, false), idbWall: sum(idbTasks, false), idbCpu: sum(idbTasks, true) });
  }
  return out;
}

const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / (values.length || 1);

/** A table per part: all reads, and the slowest 10 % (the tail), as means of each column. */
export function tailReport(reads: readonly ReadBreakdown[]): string {
  const lines: string[] = [];
  const columns = ['wall', 'mainWall', 'mainCpu', 'gc', 'idbWall', 'idbCpu'] as const;
  lines.push(`${'part / reads'.padEnd(28)}${columns.map((c) => c.padStart(10)).join('')}${'waiting'.padStart(10)}`);
  for (const part of [...new Set(reads.map((r) => r.part))]) {
    const mine = reads.filter((r) => r.part === part);
    const cut = pct(mine.map((r) => r.wall), 90);
    for (const [label, list] of [[`all ${mine.length}`, mine], ['slowest 10 %', mine.filter((r) => r.wall >= cut)]] as const) {
      const row = columns.map((c) => mean(list.map((r) => r[c])).toFixed(2).padStart(10)).join('');
      const waiting = mean(list.map((r) => r.wall - r.mainWall - r.idbWall)).toFixed(2).padStart(10);
      lines.push(`${`${part} ${label}`.padEnd(28)}${row}${waiting}`);
    }
    lines.push(`${''.padEnd(28)}p50 ${pct(mine.map((r) => r.wall), 50).toFixed(1)} ms, p95 ${pct(mine.map((r) => r.wall), 95).toFixed(1)} ms`);
  }
  return lines.join('\n');
}

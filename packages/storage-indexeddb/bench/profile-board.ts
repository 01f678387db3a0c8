/**
 * Profiling aid: `tsx bench/profile-board.ts [--deals N] [--reads K] [--cpu]` times each part of a board
 * read in headless Chromium (on-disk profile) and, with --cpu, prints the hottest functions (self time)
 * of `crm.deals.board` from a V8 CPU profile. With --tail part,part (e.g. board,rawBoardLike) it calls
 * the parts in turn under a Chromium trace and prints where each read's time went (tail-trace.ts); with
 * --alloc (and --alloc-part P, default board) the bytes each function allocates per read (sampling heap profiler).
 */
import { fileURLToPath } from 'node:url';
import { bundle, launchProfile, openPage, route } from '../test/chromium/browser-session.js';
import { breakdown, tailReport, traced } from './tail-trace.js';

const args = process.argv.slice(2);
const option = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const deals = Number(option('deals') ?? 10_000);
const reads = Number(option('reads') ?? 60);
const script = await bundle(fileURLToPath(new URL('./profile-page.ts', import.meta.url)));
const profile = await launchProfile();
try {
  await route(profile.context, script);
  const page = await openPage(profile.context, 'crmkitProfile');
  page.setDefaultTimeout(0);
  const { names, sample } = await page.evaluate((n) => window.crmkitProfile.setup(n), deals);
  console.log(`stored record (${sample.length} chars): ${sample}`);
  const only = option('parts')?.split(',');
  if (option('ab')) {
    for (const r of await page.evaluate(([p, k]) => window.crmkitProfile.ab(p as string[], k as number), [option('ab')!.split(','), reads]))
      console.log(`${r.part.padEnd(20)} median ${r.median.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms`);
    names.length = 0;
  }
  for (const part of names.filter((n) => !only || only.includes(n))) {
    const r = await page.evaluate(([p, k]) => window.crmkitProfile.time(p as string, k as number), [part, reads]);
    console.log(`${part.padEnd(16)} median ${r.median.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms`);
  }
  if (option('tail')) {
    const parts = option('tail')!.split(',');
    const cdp = await profile.context.newCDPSession(page);
    const events = await traced(cdp, async () => void (await page.evaluate(([p, k]) => window.crmkitProfile.tail(p as string[], k as number), [parts, reads] as const)));
    const reads_ = breakdown(events);
    console.log(tailReport(reads_));
    for (const part of parts) {
      const slow = reads_.filter((r) => r.part === part).sort((a, b) => b.wall - a.wall).slice(0, 6);
      console.log(`${part}, slowest: ${slow.map((r) => `${r.wall.toFixed(1)} (main ${r.mainWall.toFixed(1)}/${r.mainCpu.toFixed(1)} cpu, gc ${r.gc.toFixed(1)}, idb ${r.idbWall.toFixed(1)}/${r.idbCpu.toFixed(1)} cpu)`).join('; ')}`);
    }
    names.length = 0;
  }
  if (args.includes('--alloc')) {
    // Where the board's allocations come from (young-generation garbage makes the scavenges that land in reads).
    const cdp = await profile.context.newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    await page.evaluate(([p, k]) => window.crmkitProfile.time(p, k), [option('alloc-part') ?? 'board', reads] as const);
    const { profile: heap } = await cdp.send('HeapProfiler.stopSampling');
    const bytes = new Map<string, number>();
    const walk = (node: typeof heap.head) => {
      const key = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber}`;
      bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
      node.children.forEach(walk);
    };
    walk(heap.head);
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    console.log(`\nallocations: ${(total / (reads + 5) / 1024).toFixed(0)} kB per read (sampled), by allocating function:`);
    for (const [key, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`${(b / (reads + 5) / 1024).toFixed(1).padStart(8)} kB/read  ${key}`);
  }
  if (args.includes('--trace')) for (let i = 0; i < 3; i++) console.log(await page.evaluate(() => (window as unknown as { traceBoard: () => Promise<string> }).traceBoard()), '\n');
  if (args.includes('--cpu')) {
    const cdp = await profile.context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    await page.evaluate((k) => window.crmkitProfile.time('board', k), reads);
    const { profile: p } = await cdp.send('Profiler.stop');
    const self = new Map<string, number>();
    const dt = new Map<number, number>();
    p.samples!.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas![i] ?? 0)));
    for (const node of p.nodes) {
      const key = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0));
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`\ncpu profile: ${(total / 1000).toFixed(0)} ms sampled over ${reads + 5} board reads`);
    for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(us / 1000 / (reads + 5)).toFixed(2).padStart(7)} ms/read  ${key}`);
  }
} finally {
  await profile.close();
}

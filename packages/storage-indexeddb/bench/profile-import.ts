/**
 * Profiling aid: `tsx bench/profile-import.ts [--deals N] [--rounds R] [--cpu]` runs R rounds of
 * `crm.imports.deals(N)` and raw puts of the same records (as returned and in the stored form), in an
 * order that rotates every round, in headless Chromium (on-disk profile; see profile-import-page.ts).
 * `--steps crmkit,raw,stored,lean` picks the steps (lean: stored form without the placeholders of `--lean f,g`,
 * default contactId,companyId,leadId). Prints each round, the medians, the index entries per store, and with --cpu the hottest functions of
 * one more import (self time, V8 CPU profile).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundle, launchProfile, openPage, route } from '../test/chromium/browser-session.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const deals = Number(option('deals') ?? 10_000);
/** Top-level fields whose placeholders the `lean` raw put leaves out (comma-separated). */
const lean = (option('lean') ?? 'contactId,companyId,leadId').split(',');
const rounds = Number(option('rounds') ?? 3);
/**
 * CPU time (ms, user + system, children that ended included) of the browser whose command line names
 * `marker` (its profile directory) and of every process under it: less disturbed than wall time by
 * other load on the machine.
 */
function cpuMs(marker: string, byType?: Map<string, number>): number {
  const procs = new Map<string, { ppid: string; ticks: number; cmd: string }>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(pid, { ppid: f[1]!, ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8') });
    } catch {
      // The process ended meanwhile.
    }
  }
  const roots = [...procs].filter(([, p]) => p.cmd.includes(marker) && !procs.get(p.ppid)?.cmd.includes(marker)).map(([pid]) => pid);
  const inTree = (pid: string): boolean => roots.includes(pid) || (procs.has(pid) && pid !== '1' && inTree(procs.get(pid)!.ppid));
  const mine = [...procs].filter(([pid]) => inTree(pid));
  // By process type (browser, renderer, utility …): where the backend's and the page's work lands.
  for (const [, p] of mine) {
    const type = /--type=([a-z-]+)/.exec(p.cmd)?.[1] ?? 'browser';
    byType?.set(type, (byType.get(type) ?? 0) + p.ticks * 10);
  }
  return mine.reduce((n, [, p]) => n + p.ticks, 0) * 10; // USER_HZ 100
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const script = await bundle(fileURLToPath(new URL('./profile-import-page.ts', import.meta.url)));
const profile = await launchProfile();
const marker = profile.dir;
try {
  await route(profile.context, script);
  const page = await openPage(profile.context, 'crmkitImport');
  page.setDefaultTimeout(0);
  // Warm-up (JIT, the backend), then an import whose records the raw puts use.
  await page.evaluate((n) => window.crmkitImport.crmkit(n, 99, true), Math.min(deals, 500));
  await page.evaluate(() => window.crmkitImport.raw('rows'));
  await page.evaluate((n) => window.crmkitImport.crmkit(n, 98, true), deals);
  const rows = { crmkit: [] as number[], js: [] as number[], raw: [] as number[], stored: [] as number[], lean: [] as number[] };
  const cpu = { crmkit: [] as number[], raw: [] as number[], stored: [] as number[], lean: [] as number[] };
  const types = new Map<string, Map<string, number>[]>();
  const steps = {
    crmkit: async () => {
      const r = await page.evaluate((n) => window.crmkitImport.crmkit(n, 1), deals);
      rows.crmkit.push(r.total);
      rows.js.push(r.js);
      if (rows.crmkit.length === 1) console.log(`read requests of one import: ${JSON.stringify(r.requests)}`);
    },
    raw: async () => void rows.raw.push(await page.evaluate(() => window.crmkitImport.raw('rows'))),
    stored: async () => void rows.stored.push(await page.evaluate(() => window.crmkitImport.raw('stored'))),
    lean: async () => void rows.lean.push(await page.evaluate((l) => window.crmkitImport.raw('lean', l), lean)),
  };
  const order = (option('steps') ?? 'crmkit,raw,stored,lean').split(',') as (keyof typeof steps)[];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < order.length; k++) {
      const step = order[(r + k) % order.length]!;
      const [pre, post] = [new Map<string, number>(), new Map<string, number>()];
      const before = cpuMs(marker, pre);
      await steps[step]();
      cpu[step].push(cpuMs(marker, post) - before);
      const diff = new Map([...post].map(([type, ms]) => [type, ms - (pre.get(type) ?? 0)]));
      (types.get(step) ?? types.set(step, []).get(step)!).push(diff);
    }
    console.log(`round ${r}: ${order.map((k) => `${k} ${rows[k][r]!.toFixed(0)}${k === 'crmkit' ? ` (js ${rows.js[r]!.toFixed(0)})` : ''} (cpu ${cpu[k][r]})`).join(', ')} ms`);
  }
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.length ? median(v) : NaN]));
  console.log(`medians (ms): ${Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}; crmkit/raw ${(m.crmkit! / m.raw!).toFixed(2)}, stored/raw ${(m.stored! / m.raw!).toFixed(2)}, lean/raw ${(m.lean! / m.raw!).toFixed(2)}`);
  const c = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v.length ? median(v) : NaN]));
  console.log(`browser CPU medians (ms, every Chromium process): ${Object.entries(c).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}; crmkit/raw ${(c.crmkit! / c.raw!).toFixed(2)}, stored/raw ${(c.stored! / c.raw!).toFixed(2)}, lean/raw ${(c.lean! / c.raw!).toFixed(2)}`);
  for (const [step, list] of types) console.log(`${step} CPU by process type (ms, per round): ${list.map((m) => [...m].filter(([, ms]) => ms > 0).map(([t, ms]) => `${t} ${ms}`).join(' ')).join(' | ')}`);
  console.log('index entries (primary included), as returned / stored:', JSON.stringify(await page.evaluate(() => window.crmkitImport.indexEntries())));
  if (args.includes('--cpu')) {
    const cdp = await profile.context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    await page.evaluate((n) => window.crmkitImport.crmkit(n, 2), deals);
    const { profile: p } = await cdp.send('Profiler.stop');
    const self = new Map<string, number>();
    const dt = new Map<number, number>();
    p.samples!.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas![i] ?? 0)));
    for (const node of p.nodes) {
      const key = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0));
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`\ncpu profile of one import: ${(total / 1000).toFixed(0)} ms sampled; self time:`);
    for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
    // Inclusive time: a function's samples and its callees', counted once per stack (recursion).
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const inclusive = new Map<string, number>();
    for (const n of p.nodes) {
      const us = dt.get(n.id) ?? 0;
      if (!us) continue;
      const seen = new Set<string>();
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
        if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
        seen.add(key);
      }
    }
    // The hottest lines of the hottest JavaScript functions (self time), as lines of the page bundle.
    const bundleLines = script.split('\n');
    for (const [key] of [...self].filter(([k]) => k.includes('bundle.js')).sort((a, b) => b[1] - a[1]).slice(0, 3)) {
      const ticks = new Map<number, number>();
      for (const n of p.nodes) if (`${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}` === key) for (const t of n.positionTicks ?? []) ticks.set(t.line, (ticks.get(t.line) ?? 0) + t.ticks);
      console.log(`\n${key}, hottest lines (samples):`);
      for (const [line, count] of [...ticks].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`${String(count).padStart(7)}  ${bundleLines[line - 1]?.trim().slice(0, 140)}`);
    }
    console.log('\ninclusive time:');
    for (const [key, us] of [...inclusive].filter(([k]) => !k.startsWith('(')).sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  }
} finally {
  await profile.close();
}

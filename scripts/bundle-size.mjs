#!/usr/bin/env node
// Measures min+gzip sizes of what users bundle: `pnpm size`.
// - core: a bundle importing createCrm + createMemoryStorage, dependencies included (budget 30 kB);
// - each adapter / hooks entry with @crmkit/core and peer drivers external (budgets 6 kB and 4 kB).
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const targets = [
  { name: '@crmkit/core: createCrm + createMemoryStorage', code: "export { createCrm, createMemoryStorage } from './packages/core/src/index.ts';", external: [], budget: 30_000 },
  { name: '@crmkit/storage-indexeddb (core excluded)', code: "export * from './packages/storage-indexeddb/src/index.ts';", external: ['@crmkit/core'], budget: 6_000 },
  { name: '@crmkit/react-hooks (core excluded)', code: "export * from './packages/react-hooks/src/index.ts';", external: ['@crmkit/core', 'react', 'react-dom'], budget: 4_000 },
];
const results = [];
for (const target of targets) {
  try {
    const out = await build({
      stdin: { contents: target.code, resolveDir: root, loader: 'ts' },
      bundle: true, minify: true, format: 'esm', write: false, platform: 'neutral', mainFields: ['module', 'main'], conditions: ['import'],
      external: target.external, logLevel: 'silent', nodePaths: [`${root}/packages/core/node_modules`, `${root}/packages/storage-indexeddb/node_modules`, `${root}/packages/react-hooks/node_modules`],
    });
    const code = out.outputFiles[0].contents;
    const gzip = gzipSync(code, { level: 9 }).length;
    results.push({ name: target.name, min: code.length, gzip, budget: target.budget, ok: gzip <= target.budget });
  } catch (error) {
    results.push({ name: target.name, error: String(error.message ?? error).split('\n')[0] });
  }
}
for (const r of results) {
  if (r.error) console.log(`${r.name}: not measurable (${r.error})`);
  else console.log(`${r.name}: ${(r.min / 1000).toFixed(1)} kB min, ${(r.gzip / 1000).toFixed(1)} kB min+gzip (budget ${r.budget / 1000} kB) ${r.ok ? 'OK' : 'OVER'}`);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));

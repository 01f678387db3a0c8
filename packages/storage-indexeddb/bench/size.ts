import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measureTargets, targets, type SizeResult } from '../../../scripts/bundle-size.mjs';

/** The size script's target for this package (idb included, core excluded): one figure and budget for `pnpm bench` and `pnpm size`. */
const SIZE_TARGET = '@crmkit/storage-indexeddb (core excluded)';

/**
 * Builds the package (and core, whose types its build needs) and measures its dist as `scripts/bundle-size.mjs` does (an app's bundler resolving the exports).
 * Run alone: `npx tsx bench/size.ts` (exits 1 when over the budget).
 */
export async function size(): Promise<SizeResult> {
  execFileSync('pnpm', ['--filter', '@crmkit/storage-indexeddb...', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'ignore', 'inherit'] });
  const [result] = await measureTargets(
    targets.filter((t) => t.name === SIZE_TARGET),
    ['storage-indexeddb'],
    'crmkit-size-idb-bench',
  );
  if (!result) return { name: SIZE_TARGET, ok: false, error: 'no such target in scripts/bundle-size.mjs' };
  const { inputs: _inputs, ...figures } = result as SizeResult & { inputs?: unknown };
  return figures;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await size();
  console.log(JSON.stringify(result));
  if (!result.ok) process.exitCode = 1;
}

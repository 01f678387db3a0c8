import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'crmkit-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the demo exactly as `pnpm demo` does, on SQLite files in a temporary folder. */
function runDemo(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  return execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, CRMKIT_DEMO_DIR: dir, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)) },
    encoding: 'utf8',
  });
}

it('the demo imports, syncs orders and payments on SQLite files, and a re-run reuses them', () => {
  const first = runDemo();
  expect(first).toContain(`Shop data: ${join(dir, 'shop.sqlite')}`);
  expect(first).toMatch(/row +4 +failed +VALIDATION: email /);
  expect(first).toContain('3 created, 0 updated, 0 skipped, 1 failed');
  expect(first.match(/known by e-mail/g)).toHaveLength(3);
  expect(first).toMatch(/Payment received → deal \S+ won \(Order 1:/);
  expect(first).toMatch(/Order placed\s+1\s+€119\.70\s+€23\.94/);
  expect(first).toMatch(/Quote sent\s+1\s+€996\.00/);
  const second = runDemo();
  expect(second).toMatch(/row +5 +skipped +\S+ +duplicate of /);
  expect(second).toContain('0 created, 0 updated, 4 skipped, 1 failed');
  expect(second.match(/known by shop id/g)).toHaveLength(3);
  expect(second).toMatch(/Order placed\s+2\s+€239\.40/);
  expect(second).toMatch(/Quote sent\s+2\s+€1,992\.00/);
}, 120_000);

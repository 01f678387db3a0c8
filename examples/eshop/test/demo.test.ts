import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'crmkit-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the demo exactly as `pnpm demo` does, on a temporary SQLite file. */
function runDemo(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  return execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, CRMKIT_DEMO_DB: join(dir, 'shop.sqlite'), TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)) },
    encoding: 'utf8',
  });
}

it('the demo runs on a SQLite file and a re-run reuses it', () => {
  const first = runDemo();
  expect(first).toContain(`Data: ${join(dir, 'shop.sqlite')}`);
  expect(first).toMatch(/Quote requested\s+2\s+€1,115\.70\s+€223\.14/);
  expect(first).toMatch(/Quote sent\s+1\s+€11,376\.00/);
  const second = runDemo();
  expect(second).toMatch(/Quote requested\s+4\s+€2,231\.40/);
  expect(second).toMatch(/Quote sent\s+2\s+€22,752\.00/);
}, 120_000);

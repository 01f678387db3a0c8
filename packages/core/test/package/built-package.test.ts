import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built package as Node apps load it: through `exports`, from a consumer folder, in plain Node.
const pkg = fileURLToPath(new URL('../../', import.meta.url));
const marker = join(pkg, 'dist', 'cjs', 'index.d.ts'); // written last by the build

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Builds the package unless dist is newer than every source and build file (`pnpm size` builds it in CI). */
function ensureBuilt(): void {
  const inputs = ['src', 'tsup.config.ts', 'tsconfig.types.json', 'tsconfig.build.json', 'package.json', 'scripts'].map((p) => newest(join(pkg, p)));
  if (existsSync(marker) && statSync(marker).mtimeMs > Math.max(...inputs)) return;
  execFileSync('pnpm', ['run', 'build'], { cwd: pkg, stdio: 'pipe', timeout: 240_000 });
}

let consumer: string;

/** Runs a script in plain Node from a folder whose node_modules has `@crmkit/core`; returns its JSON output. */
function run(file: string, source: string): Record<string, unknown> {
  writeFileSync(join(consumer, file), source);
  const out = execFileSync(process.execPath, [join(consumer, file)], { cwd: consumer, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

const BLOCK_VITEST_CJS = `
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^(vitest|@vitest\\/)/.test(request)) throw new Error('vitest must not be loaded: ' + request);
  return resolve.call(this, request, ...rest);
};`;

const BLOCK_VITEST_ESM = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  'export async function resolve(s, c, next) { if (/^(vitest|@vitest\\\\/)/.test(s)) throw new Error("vitest must not be loaded: " + s); return next(s, c); }'));`;

describe('the built package', { timeout: 300_000 }, () => {
  beforeAll(() => {
    ensureBuilt();
    consumer = mkdtempSync(join(tmpdir(), 'crmkit-consumer-'));
    mkdirSync(join(consumer, 'node_modules', '@crmkit'), { recursive: true });
    symlinkSync(pkg, join(consumer, 'node_modules', '@crmkit', 'core'), 'dir');
  }, 300_000);
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it('CommonJS: the testing entry shares core with the root entry (one CrmError), and loads without vitest', () => {
    const result = run(
      'cjs.cjs',
      `${BLOCK_VITEST_CJS}
const { sep } = require('node:path');
const core = require('@crmkit/core');
const testing = require('@crmkit/core/testing');
(async () => {
  const { crm, clock } = await testing.createTestCrm({ features: [] });
  let error;
  try { await crm.leads.get('not an id!'); } catch (e) { error = e; }
  const loaded = Object.keys(require.cache);
  console.log(JSON.stringify({
    instance: error instanceof core.CrmError,
    is: core.isCrmError(error, 'VALIDATION'),
    copies: loaded.filter((p) => p.endsWith(sep + 'errors' + sep + 'crm-error.js')).length,
    clock: typeof clock.advance,
  }));
})();`,
    );
    expect(result).toEqual({ instance: true, is: true, copies: 1, clock: 'function' });
  });

  it('declarations carry no @internal member (stripInternal) in either tree', () => {
    const leaks: string[] = [];
    const scan = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) scan(path);
        else if (name.endsWith('.d.ts') && readFileSync(path, 'utf8').includes('@internal')) leaks.push(path.slice(pkg.length));
      }
    };
    scan(join(pkg, 'dist', 'esm'));
    scan(join(pkg, 'dist', 'cjs'));
    expect(leaks).toEqual([]);
    const root = readFileSync(join(pkg, 'dist', 'esm', 'index.d.ts'), 'utf8');
    expect(root).not.toMatch(/assertAdapterOpen|deliverChangeBatch/);
  });

  it('ESM: every entry imports without vitest and resolves to one module graph', () => {
    const result = run(
      'esm.mjs',
      `${BLOCK_VITEST_ESM}
const core = await import('@crmkit/core');
const testing = await import('@crmkit/core/testing');
const { reports } = await import('@crmkit/core/reports');
const { scoring } = await import('@crmkit/core/scoring');
const { scheduler } = await import('@crmkit/core/scheduler');
const { observers } = await import('@crmkit/core/observe');
const { tasks } = await import('@crmkit/core/tasks');
const { activities } = await import('@crmkit/core/activities');
const { assignment } = await import('@crmkit/core/assignment');
const { customFields } = await import('@crmkit/core/custom-fields');
const { duplicates } = await import('@crmkit/core/duplicates');
const { imports } = await import('@crmkit/core/imports');
const storage = await import('@crmkit/core/storage');
const { crm } = await testing.createTestCrm();
let error;
try { await crm.deals.get('missing'); } catch (e) { error = e; }
const crm2 = await core.createCrm({ storage: core.createMemoryStorage(), tenantId: 't', features: [tasks(), activities(), assignment(), customFields(), duplicates(), imports(), reports(), scoring(), scheduler(), observers()] });
console.log(JSON.stringify({
  instance: error instanceof core.CrmError,
  code: error.code,
  features: [typeof crm2.reports.funnel, typeof crm2.scoring.score, typeof crm2.scheduler.tick, typeof crm2.observe.deal, typeof crm2.tasks.create, typeof crm2.calendar.get, typeof crm2.activities.log, typeof crm2.assignment.assign, typeof crm2.customFields.define, typeof crm2.duplicates.find, typeof crm2.imports.deals],
  schema: storage.CRM_STORAGE_SCHEMA.version > 0,
}));`,
    );
    expect(result).toEqual({ instance: true, code: 'NOT_FOUND', features: Array(11).fill('function'), schema: true });
  });

  it('isCrmError and instanceof recognise errors of another copy of the package (ESM and CJS in one app)', () => {
    const result = run(
      'dual.mjs',
      `import { createRequire } from 'node:module';
const esm = await import('@crmkit/core');
const cjs = createRequire(import.meta.url)('@crmkit/core');
const failing = async (lib) => {
  const crm = await lib.createCrm({ storage: lib.createMemoryStorage(), tenantId: 't' });
  try { await crm.contacts.get('missing'); } catch (e) { return e; }
};
const fromCjs = await failing(cjs);
const fromEsm = await failing(esm);
console.log(JSON.stringify({
  distinctClasses: esm.CrmError !== cjs.CrmError,
  esmSeesCjs: [esm.isCrmError(fromCjs, 'NOT_FOUND'), fromCjs instanceof esm.CrmError],
  cjsSeesEsm: [cjs.isCrmError(fromEsm, 'NOT_FOUND'), fromEsm instanceof cjs.CrmError],
  plainError: [esm.isCrmError(new Error('x')), new Error('x') instanceof esm.CrmError],
}));`,
    );
    expect(result).toEqual({ distinctClasses: true, esmSeesCjs: [true, true], cjsSeesEsm: [true, true], plainError: [false, false] });
  });
});

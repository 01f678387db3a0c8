/**
 * The part of vitest's API the shared suites use (describe / it / hooks / expect), for running them
 * inside a Chromium page. Tests register into a list; the Node side (test/chromium.test.ts) turns each
 * into a real vitest test that calls `runTest(id)` in the page, so vitest reports every browser test.
 * `expect` is vitest's own (@vitest/expect on chai), so assertions mean exactly what they mean in Node.
 */
import { chai, JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';
import type { expect as vitestExpect } from 'vitest';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

export const expect = chai.expect as unknown as typeof vitestExpect;

type Hook = () => unknown;

interface Suite {
  readonly name: string;
  readonly parent: Suite | undefined;
  readonly timeout: number | undefined;
  readonly beforeEach: Hook[];
  readonly afterEach: Hook[];
}

export interface BrowserTest {
  readonly id: number;
  readonly path: readonly string[];
  readonly timeout: number;
}

interface Registered extends BrowserTest {
  readonly suite: Suite;
  readonly fn: () => unknown;
}

export interface TestOutcome {
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: { name: string; message: string; stack?: string; diff?: string };
}

const root: Suite = { name: '', parent: undefined, timeout: undefined, beforeEach: [], afterEach: [] };
let current = root;
const registered: Registered[] = [];

type Options = { timeout?: number } | number | undefined;
const timeoutOf = (options: Options) => (typeof options === 'number' ? options : options?.timeout);

function pathOf(suite: Suite): string[] {
  return suite.parent ? [...pathOf(suite.parent), suite.name] : [];
}

export function describe(name: string, a: Options | (() => void), b?: () => void): void {
  const fn = typeof a === 'function' ? a : b!;
  const suite: Suite = { name, parent: current, timeout: typeof a === 'function' ? undefined : timeoutOf(a), beforeEach: [], afterEach: [] };
  const previous = current;
  current = suite;
  try {
    fn();
  } finally {
    current = previous;
  }
}

export function it(name: string, a: Options | (() => unknown), b?: Options | (() => unknown)): void {
  const fn = (typeof a === 'function' ? a : b) as () => unknown;
  const options = (typeof a === 'function' ? b : a) as Options;
  let timeout = timeoutOf(options);
  for (let s: Suite | undefined = current; timeout === undefined && s; s = s.parent) timeout = s.timeout;
  registered.push({ id: registered.length, path: [...pathOf(current), name], timeout: timeout ?? 60_000, suite: current, fn });
}
export const test = it;

export function beforeEach(fn: Hook): void {
  current.beforeEach.push(fn);
}

export function afterEach(fn: Hook): void {
  current.afterEach.push(fn);
}

/** The registered tests, for the Node side to mirror. */
export function listTests(): BrowserTest[] {
  return registered.map(({ id, path, timeout }) => ({ id, path, timeout }));
}

function describeError(error: unknown): NonNullable<TestOutcome['error']> {
  const e = error as { name?: string; message?: string; stack?: string; actual?: unknown; expected?: unknown; code?: string; details?: unknown };
  const show = (v: unknown) => {
    try {
      return JSON.stringify(v, null, 1)?.slice(0, 4000);
    } catch {
      return String(v);
    }
  };
  const diff = 'expected' in (e ?? {}) ? `expected: ${show(e.expected)}\nactual: ${show(e.actual)}` : e?.code ? `code: ${e.code} details: ${show(e.details)}` : undefined;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error), ...(e?.stack ? { stack: e.stack } : {}), ...(diff ? { diff } : {}) };
}

/** Runs one test with its suites' hooks (outermost first before, innermost first after) and a timeout. */
export async function runTest(id: number): Promise<TestOutcome> {
  const test = registered[id]!;
  const chain: Suite[] = [];
  for (let s: Suite | undefined = test.suite; s; s = s.parent) chain.unshift(s);
  const started = performance.now();
  let failure: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (const suite of chain) for (const hook of suite.beforeEach) await hook();
    await Promise.race([
      Promise.resolve().then(test.fn),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`Test timed out in ${test.timeout} ms`)), test.timeout))),
    ]);
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(timer);
  }
  for (const suite of chain.reverse()) {
    for (const hook of suite.afterEach) {
      try {
        await hook();
      } catch (error) {
        failure ??= error;
      }
    }
  }
  const ms = performance.now() - started;
  return failure === undefined ? { ok: true, ms } : { ok: false, ms, error: describeError(failure) };
}

import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** A forked Node process running a TypeScript script through tsx, driven by request/response messages. */
export interface Child {
  request<T = unknown>(message: Record<string, unknown>): Promise<T>;
  /** Sends a signal (default SIGTERM); `SIGKILL` kills it mid-work. */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  readonly pid: number | undefined;
}

/**
 * Forks `script` (a path relative to the package) under `node --import tsx`, with `@crmkit/*` resolved
 * to sources through the package tsconfig, and waits for its first message.
 */
export async function forkChild(script: string, options: { bundled?: boolean } = {}): Promise<Child> {
  const child: ChildProcess = options.bundled
    ? fork(await bundle(script), [], { cwd: PACKAGE_DIR, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(fileURLToPath(new URL(`../../${script}`, import.meta.url)), [], {
        cwd: PACKAGE_DIR,
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, TSX_TSCONFIG_PATH: `${PACKAGE_DIR}tsconfig.json`, NODE_OPTIONS: '' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  let exited: Error | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  child.on('message', (message: { seq: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.seq);
    if (!waiter) return;
    pending.delete(message.seq);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });
  let onExit!: () => void;
  const exitedPromise = new Promise<void>((resolve) => (onExit = resolve));
  child.on('exit', (code, signal) => {
    exited = new Error(`child ${script} exited with ${code ?? signal}`);
    for (const waiter of pending.values()) waiter.reject(exited);
    pending.clear();
    onExit();
  });
  await ready;
  return {
    request<T>(message: Record<string, unknown>) {
      if (exited) return Promise.reject(exited);
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...message, seq: id });
      });
    },
    kill(signal?: NodeJS.Signals) {
      if (!exited && child.pid !== undefined) child.kill(signal);
    },
    exited: exitedPromise,
    pid: child.pid,
  };
}

const bundles = new Map<string, Promise<string>>();

/**
 * Bundles a child script (with crmkit's sources, through the repository's tsconfig paths) into one
 * ESM file with esbuild, once per test file: a fork then starts in a fraction of a second instead of
 * having tsx compile every source again (seconds per process on a loaded machine). Drivers stay external.
 */
function bundle(script: string): Promise<string> {
  let made = bundles.get(script);
  if (!made) {
    made = (async () => {
      const { build } = await import('esbuild');
      // Inside the package, so the external drivers resolve from its node_modules.
      const cache = join(PACKAGE_DIR, 'node_modules', '.cache');
      mkdirSync(cache, { recursive: true });
      const outfile = join(mkdtempSync(join(cache, 'crmkit-child-')), 'child.mjs');
      await build({
        entryPoints: [fileURLToPath(new URL(`../../${script}`, import.meta.url))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile,
        tsconfig: fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url)),
        external: ['better-sqlite3', 'pg', 'kysely'],
        logLevel: 'silent',
      });
      return outfile;
    })();
    bundles.set(script, made);
  }
  return made;
}

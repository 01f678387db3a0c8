import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** A forked Node process running a TypeScript script through tsx, driven by request/response messages. */
export interface Child {
  request<T = unknown>(message: Record<string, unknown>): Promise<T>;
  kill(): void;
}

/**
 * Forks `script` (a path relative to the package) under `node --import tsx`, with `@crmkit/*` resolved
 * to sources through the package tsconfig, and waits for its first message.
 */
export async function forkChild(script: string): Promise<Child> {
  const child: ChildProcess = fork(fileURLToPath(new URL(`../../${script}`, import.meta.url)), [], {
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
  child.on('exit', (code) => {
    exited = new Error(`child ${script} exited with ${code}`);
    for (const waiter of pending.values()) waiter.reject(exited);
    pending.clear();
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
    kill() {
      if (!exited && child.pid !== undefined) child.kill();
    },
  };
}

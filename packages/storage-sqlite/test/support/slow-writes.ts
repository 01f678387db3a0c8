import type { StorageAdapter } from '@crmkit/core';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The storage with every transactional write of `entity` delayed by `ms` while `slow.on` (default: always),
 * to hold a race's window open for the other writer; a failed transaction's error goes to `failures`.
 */
export function slowWrites(storage: StorageAdapter, entity: string, ms: number, options: { readonly slow?: { readonly on: boolean }; readonly failures?: string[] } = {}): StorageAdapter {
  const { slow = { on: true }, failures } = options;
  const slowTx = (tx: object) =>
    new Proxy(tx, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        if (key !== 'write') return value.bind(target);
        return async (name: string, ...rest: unknown[]) => {
          if (name === entity && slow.on) await sleep(ms);
          return (value as (...args: unknown[]) => unknown).call(target, name, ...rest);
        };
      },
    });
  return new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key === 'transaction') {
        return (mode: 'r' | 'rw', fn: (tx: never) => Promise<unknown>) =>
          target.transaction(mode, (tx) => fn(slowTx(tx) as never)).catch((error: unknown) => {
            failures?.push(String(error));
            throw error;
          });
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

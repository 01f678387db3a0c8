import type { IdbTestEnv } from './env.js';

/**
 * Counts the records IndexedDB hands out (getAll results, cursor steps, gets) by patching the
 * prototypes of the implementation in use, to show that a page does not load a whole store.
 */
export function countReads(env: IdbTestEnv): { readonly records: number; restore(): void } {
  const counter = { records: 0, restore: () => {} };
  const undo: (() => void)[] = [];
  for (const proto of [env.classes.IDBObjectStore.prototype, env.classes.IDBIndex.prototype] as unknown as Record<string, (...args: unknown[]) => IDBRequest>[]) {
    for (const method of ['getAll', 'openCursor', 'get']) {
      const original = proto[method]!;
      proto[method] = function (this: unknown, ...args: unknown[]) {
        const request = original.apply(this, args);
        request.addEventListener('success', () => {
          const result = request.result as unknown;
          counter.records += Array.isArray(result) ? result.length : result ? 1 : 0;
        });
        return request;
      };
      undo.push(() => (proto[method] = original));
    }
  }
  counter.restore = () => undo.forEach((f) => f());
  return counter;
}

/** The Web Locks API where the runtime has it (browsers, workers). */
interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * Runs storage work of a device one piece at a time (design sync.md §8): command runs, page applies and
 * rebases never interleave — within this page through a promise chain, and across the tabs of one
 * origin through the Web Lock `name` when `navigator.locks` exists (two tabs share one database: the
 * lock orders their commands and rebases; a command another tab ran is `applied` and not replayed).
 */
export function deviceLock(name: string): <T>(fn: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const locks = (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
    const run = locks ? () => locks.request(name, fn) : fn;
    const next = chain.then(run, run);
    chain = next.catch(() => undefined);
    return next;
  };
}

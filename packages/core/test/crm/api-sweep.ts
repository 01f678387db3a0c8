import { isCrmError } from '@crmkit/core';

/**
 * The one sweep over the public API that the "every method" tests share: which objects a crm (or a
 * view) hands out, which methods each has, and how a call with given arguments ended.
 */

/**
 * Function-valued members of an API object: its own enumerable ones (arrow-function properties,
 * plain-object APIs) and those of its prototype chain (class methods; views wrap by prototype).
 * What JavaScript can call, whatever TypeScript says is private.
 */
export function methodsOf(api: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = api; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names].sort();
}

/** The API objects of a crm or a view by path (`deals`, `observe`, …); its own functions (`on`, `as`) under `crm`. */
export function apisOf(crm: object): [string, object][] {
  const out: [string, object][] = [['crm', crm]];
  for (const [path, api] of Object.entries(crm)) if (api && typeof api === 'object') out.push([path, api]);
  return out;
}

/** How a call ended: `sync` (threw at once), `rejected`, `resolved`, `returned` (not a promise) or `pending` (still running). */
export interface Outcome {
  readonly how: 'sync' | 'rejected' | 'resolved' | 'returned' | 'pending';
  readonly value?: unknown;
}

/** Calls `api[method](...args)` and settles it, giving up after `waitMs` (background loops never settle). */
export async function callOnce(api: object, method: string, args: readonly unknown[], waitMs = 200): Promise<Outcome> {
  let result: unknown;
  try {
    result = (api as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
  } catch (error) {
    return { how: 'sync', value: error };
  }
  if (!(result instanceof Promise)) return { how: 'returned', value: result };
  const pending: Outcome = { how: 'pending' };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    result.then((value: unknown): Outcome => ({ how: 'resolved', value }), (error: unknown): Outcome => ({ how: 'rejected', value: error })),
    new Promise<Outcome>((resolve) => (timer = setTimeout(resolve, waitMs, pending))),
  ]);
  clearTimeout(timer);
  return outcome;
}

/** A short description of a thrown value for a test's failure list. */
export function describeError(error: unknown): string {
  if (isCrmError(error)) return `CrmError ${error.code}: ${error.message.slice(0, 120)}`;
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 120)}` : String(error);
}

import { isCrmError } from '../errors/crm-error.js';
import type { CrmContext } from './context.js';

/** Rounds a management call spends on conflicts with concurrent writers before it gives up (about 3 s of pauses). */
const ROUNDS = 16;
/** Rounds an operation spends on races (`retryRaces`) before it gives up (about 1 s of pauses). */
const RACE_ROUNDS = 10;

/**
 * Conflicts a storage write met because another transaction committed first (`markRace`): `once`
 * when the write expected no stored version (an insert whose id was taken, a delete of a row that
 * went), which one more run settles — it reads the committed row.
 */
const races = new WeakMap<object, 'version' | 'once'>();
/** Concurrency errors a retry loop gave up on: an enclosing loop does not start over. */
const spent = new WeakSet<object>();

/**
 * Marks `error` when it is a storage write's `CONFLICT` that is no caller's doing: the write expected
 * the version the operation read in its own transaction (or no row), so another transaction changed
 * the row since. A caller's stale `version` is refused before any write (`assertExpectedVersion`), and a
 * unique-key conflict (`details.key`) means another record holds the value: neither is marked.
 */
export function markRace<E>(error: E): E {
  if (isCrmError(error, 'CONFLICT') && !error.details.key) races.set(error, error.details.expectedVersion === null ? 'once' : 'version');
  return error;
}

/**
 * Whether `error` was marked by `markRace` (also after an access view concealed it: see `Operation`);
 * with `'version'`, only a race of a write that expected a stored version.
 */
export function isRace(error: unknown, only?: 'version'): boolean {
  const kind = typeof error === 'object' && error !== null ? races.get(error) : undefined;
  return kind !== undefined && (only === undefined || kind === only);
}

/** Marks `to` as a race like `from` (an error replaced on its way up, such as a concealed conflict). */
export function sameRace<E>(from: unknown, to: E): E {
  const kind = typeof from === 'object' && from !== null ? races.get(from) : undefined;
  if (kind && typeof to === 'object' && to !== null) races.set(to, kind);
  return to;
}

/** Whether an error is a concurrent writer's doing (a version conflict, a deadlock, a busy database). */
export function isConcurrent(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && spent.has(error)) return false;
  return isCrmError(error, 'CONFLICT') || (isCrmError(error, 'STORAGE') && error.details.retryable === true);
}

/**
 * Runs `work` again when it met a concurrent writer, pausing with exponential backoff and equal
 * jitter (≈4 ms doubling up to 250 ms). Each round is one whole transaction, so a call is done or not
 * at all. `isCallers` marks a conflict that is the caller's own (a stale `version`): it is thrown at
 * once. After the last round the error is thrown, and an enclosing `retryConcurrent` does not retry it.
 */
export async function retryConcurrent<T>(ctx: CrmContext, work: () => Promise<T>, isCallers: (error: unknown) => boolean = () => false, rounds = ROUNDS): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await work();
    } catch (error) {
      if (!isConcurrent(error) || isCallers(error)) throw error;
      if (round >= rounds) {
        if (typeof error === 'object' && error !== null) spent.add(error);
        throw error;
      }
      const pause = Math.min(250, 4 * 2 ** round);
      await new Promise((resolve) => setTimeout(resolve, Math.round(pause / 2 + (pause / 2) * ctx.random.next())));
    }
  }
}

/**
 * Runs a write transaction (`work`) again while it fails on races only (`markRace`): the next run reads
 * what the other transaction committed, as if it had run after it — the outcome a serial engine (SQLite,
 * memory) gives. Every other error, a caller's stale `version` among them, is thrown at once; a race on
 * a row that was expected absent runs once more, not again.
 */
export function retryRaces<T>(ctx: CrmContext, work: () => Promise<T>): Promise<T> {
  let again = false;
  return retryConcurrent(ctx, work, (error) => {
    if (!isRace(error)) return true;
    if (isRace(error, 'version')) return false;
    const final = again;
    again = true;
    return final;
  }, RACE_ROUNDS);
}

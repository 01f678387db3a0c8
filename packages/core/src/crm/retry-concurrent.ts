import { isCrmError } from '../errors/crm-error.js';
import type { Random } from '../domain/random.js';

/** What a re-run needs of the crm context: its random source for the jitter (not the whole context, so the kernel's type cycle stays closed). */
type Jitter = { readonly random: Random };

/** Rounds a management call spends on conflicts with concurrent writers before it gives up (about 3 s of pauses). */
const ROUNDS = 16;
/** Rounds an operation spends on races (`retryRaces`) before it gives up (about 1 s of pauses). */
const RACE_ROUNDS = 10;

/**
 * Conflicts a storage write met because another transaction committed first (`markRace`): `true`
 * when the write expected a stored version; `false` when it expected no row (an insert whose id was
 * taken, a delete of a row that went), which one more run settles — it reads the committed row.
 */
const races = new WeakMap<object, boolean>();

/**
 * Marks `error` when it is a storage write's `CONFLICT` that is no caller's doing: the write expected
 * the version the operation read in its own transaction (or no row), so another transaction changed
 * the row since. A caller's stale `version` is refused before any write (`assertExpectedVersion`), and a
 * unique-key conflict (`details.key`) means another record holds the value: neither is marked.
 */
export function markRace<E>(error: E): E {
  if (isCrmError(error, 'CONFLICT') && !error.details.key) races.set(error, error.details.expectedVersion !== null);
  return error;
}

/** Whether `error` was marked by `markRace`; with `version`, only a race of a write that expected a stored version. */
export function isRace(error: unknown, version?: boolean): boolean {
  const kind = races.get(error as object);
  return version ? kind === true : kind !== undefined;
}

/**
 * Whether an error is a concurrent writer's doing that a caller may run again: a conflict (not a race:
 * `runWrite` ran those again already, within its bound), a deadlock, a busy database.
 */
export function isConcurrent(error: unknown): boolean {
  return (isCrmError(error, 'CONFLICT') && !races.has(error)) || (isCrmError(error, 'STORAGE') && error.details.retryable === true);
}

/** Runs `work` again while `retry` says so, at most `rounds` times, with exponential backoff and equal jitter (≈4 ms doubling up to 250 ms). */
async function rerun<T>(ctx: Jitter, work: () => Promise<T>, retry: (error: unknown) => boolean, rounds: number): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await work();
    } catch (error) {
      if (round >= rounds || !retry(error)) throw error;
      const pause = Math.min(250, 4 * 2 ** round);
      await new Promise((resolve) => setTimeout(resolve, Math.round(pause / 2 + (pause / 2) * ctx.random.next())));
    }
  }
}

/**
 * Runs a management call again when it met a concurrent writer (`isConcurrent`). Each round is one
 * whole transaction, so a call is done or not at all. `isCallers` marks a conflict that is the
 * caller's own (a stale `version`): it is thrown at once.
 */
export function retryConcurrent<T>(ctx: Jitter, work: () => Promise<T>, isCallers: (error: unknown) => boolean = () => false): Promise<T> {
  return rerun(ctx, work, (error) => isConcurrent(error) && !isCallers(error), ROUNDS);
}

/**
 * Runs a write transaction (`work`) again while it fails on races only (`markRace`): the next run reads
 * what the other transaction committed, as if it had run after it — the outcome a serial engine (SQLite,
 * memory) gives. Every other error, a caller's stale `version` among them, is thrown at once; a race on
 * a row that was expected absent runs once more, not again.
 */
export function retryRaces<T>(ctx: Jitter, work: () => Promise<T>): Promise<T> {
  let once = true;
  return rerun(ctx, work, (error) => isRace(error, true) || (isRace(error) && once && !(once = false)), RACE_ROUNDS);
}

import { isCrmError } from '../errors/crm-error.js';
import type { CrmContext } from '../crm/context.js';

/** Rounds a management call spends on conflicts with delivering processes before it gives up (about 3 s of pauses). */
const ROUNDS = 16;

/** Whether an error is a concurrent writer's doing (a version conflict, a deadlock, a busy database). */
export function isConcurrent(error: unknown): boolean {
  return isCrmError(error, 'CONFLICT') || (isCrmError(error, 'STORAGE') && error.details.retryable === true);
}

/**
 * Runs a management call (endpoint and consumer changes, removals, replays) again when it met an
 * internal writer — lease renewals, pass commits, health bookkeeping of other processes — pausing
 * with exponential backoff and equal jitter (≈4 ms doubling up to 250 ms). Each round is one whole
 * transaction, so a call is done or not at all. `isCallers` marks a conflict that is the caller's own
 * (a stale `version`): it is thrown at once.
 */
export async function retryConcurrent<T>(ctx: CrmContext, work: () => Promise<T>, isCallers: (error: unknown) => boolean = () => false): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await work();
    } catch (error) {
      if (round >= ROUNDS || !isConcurrent(error) || isCallers(error)) throw error;
      const pause = Math.min(250, 4 * 2 ** round);
      await new Promise((resolve) => setTimeout(resolve, Math.round(pause / 2 + (pause / 2) * ctx.random.next())));
    }
  }
}

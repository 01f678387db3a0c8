import { validationError } from '../errors/crm-error.js';
import { FIRST_INSTANT, LAST_INSTANT } from '../schema/primitives.js';

/** A cancellable timer handle returned by `Clock.setTimer`. */
export type CancelTimer = () => void;

/**
 * The source of time. Domain code never calls `Date.now()`; it asks the clock, so tests can drive time
 * (see `createFakeClock` in `@crmkit/core/testing`).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `delayMs`; returns a function that cancels it. Used by `scheduler.start()`. */
  setTimer(fn: () => void, delayMs: number): CancelTimer;
}

/** The wall clock with real timers. Long delays are capped because timers overflow past 2^31-1 ms. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, delayMs) {
    const handle = setTimeout(fn, Math.min(Math.max(0, delayMs), 2_147_483_647));
    // Do not keep a Node process alive just for a scheduler wake-up.
    (handle as { unref?: () => void }).unref?.();
    return () => clearTimeout(handle);
  },
};

/**
 * Canonical timestamp text for an epoch-ms instant, held within the years a timestamp holds
 * (`FIRST_INSTANT`–`LAST_INSTANT`, UTC 0000–9999: past them the text would sort before every timestamp).
 * So a computed lease, retry time or cut-off past an end is held there; it compares with stored times
 * as the true instant would, but for one stored at that very end. A time a caller asked for is checked
 * instead (`checkedTimestamp`).
 */
export function toTimestamp(ms: number): string {
  return new Date(Math.min(Math.max(ms, FIRST_INSTANT), LAST_INSTANT)).toISOString();
}

/**
 * The later of two canonical timestamps: a time that never moves back (a record's `updatedAt`, a deal's
 * `lastActivityAt`) takes `later(stored, now)`, as a command run at its earlier time after newer work
 * (a synced device's) must not undo that work's time.
 */
export const later = (stored: string, at: string): string => (stored > at ? stored : at);

/** Epoch ms of a canonical timestamp. */
export function fromTimestamp(timestamp: string): number {
  return Date.parse(timestamp);
}

/**
 * `toTimestamp` for a computed time that is data (a task's due time, the end of a wait): outside UTC years
 * 0000–9999 it cannot be stored, and the operation is refused.
 *
 * @param context The operation, e.g. `stage entry`; `path` names the field the time was computed from.
 * @throws CrmError `VALIDATION` (code `out_of_range`) naming the field.
 * @example checkedTimestamp(Date.parse('9999-12-31T23:00:00Z') + 7_200_000, 'automations', 'actions', 2, 'for') // throws
 */
export function checkedTimestamp(ms: number, context: string, ...path: (string | number)[]): string {
  if (!(ms >= FIRST_INSTANT && ms <= LAST_INSTANT)) throw validationError(context, [{ path, code: 'out_of_range', message: 'would fall outside UTC years 0000-9999' }]);
  return toTimestamp(ms);
}

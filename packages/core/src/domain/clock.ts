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

/** Canonical timestamp text for an epoch-ms instant. */
export function toTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Epoch ms of a canonical timestamp. */
export function fromTimestamp(timestamp: string): number {
  return Date.parse(timestamp);
}

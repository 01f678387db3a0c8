import type { CancelTimer, Clock } from '../domain/clock.js';

/** A clock tests drive by hand. Timers fire synchronously, in due order, when time passes them. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing every timer due on the way (each at its own time). */
  advance(ms: number): void;
  /** Jumps to an instant (ISO text or epoch ms). Jumping back is allowed (clock skew tests); no timer fires then. */
  set(time: string | number): void;
  /** How many timers are waiting. */
  pendingTimers(): number;
  /** The earliest pending timer's due time, if any. */
  nextTimerAt(): number | undefined;
}

/**
 * Creates a fake clock starting at `start` (default `2026-01-05T09:00:00.000Z`, a Monday morning).
 *
 * @example
 * const clock = createFakeClock('2026-03-02T09:00:00Z');
 * const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', clock });
 * clock.advance(24 * 3600_000);
 */
export function createFakeClock(start: string | number = '2026-01-05T09:00:00.000Z'): FakeClock {
  const toMs = (t: string | number) => {
    const ms = typeof t === 'number' ? t : Date.parse(t);
    if (!Number.isFinite(ms)) throw new RangeError(`Invalid time: ${String(t)}`);
    return ms;
  };
  let now = toMs(start);
  let sequence = 0;
  const timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  const dueTimer = (limit: number) => {
    let best: { at: number; seq: number; fn: () => void } | undefined;
    let bestId = -1;
    for (const [id, t] of timers) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) {
        best = t;
        bestId = id;
      }
    }
    if (best) timers.delete(bestId);
    return best;
  };

  return {
    now: () => now,
    setTimer(fn, delayMs): CancelTimer {
      const id = ++sequence;
      timers.set(id, { at: now + Math.max(0, delayMs), seq: id, fn });
      return () => {
        timers.delete(id);
      };
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError('advance() needs a non-negative number of ms');
      const target = now + ms;
      for (let timer = dueTimer(target); timer; timer = dueTimer(target)) {
        now = Math.max(now, timer.at);
        timer.fn();
      }
      now = target;
    },
    set(time) {
      now = toMs(time);
    },
    pendingTimers: () => timers.size,
    nextTimerAt() {
      let min: number | undefined;
      for (const t of timers.values()) if (min === undefined || t.at < min) min = t.at;
      return min;
    },
  };
}

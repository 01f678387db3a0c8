import type { Clock } from '@crmkit/core';

/** Backoff after failures (design sync.md §9): full jitter over 1 s · 2^(n-1), at most 60 s. */
export function backoffMs(failures: number, random: () => number, minMs = 1_000, maxMs = 60_000): number {
  return Math.floor(random() * Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1)));
}

/**
 * Runs `cycle` on a timer: again after `pollMs()` when it succeeds (not at all while it is `Infinity`), after a backoff when it fails; `kick`
 * runs it sooner (a local command, a poke). One timer at a time; `stop` cancels it.
 */
export class SyncLoop {
  private cancel: (() => void) | undefined;
  private due = Infinity;
  private failures = 0;
  running = false;

  constructor(
    private readonly clock: Clock,
    private readonly cycle: () => Promise<void>,
    /** Delay after a success: `Infinity` waits for a kick (a live signal is connected). */
    private readonly pollMs: () => number,
    private readonly random: () => number,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.kick(0);
  }

  /** Runs a cycle within `delayMs` (unless one is due sooner). */
  kick(delayMs: number): void {
    if (!this.running) return;
    const at = this.clock.now() + delayMs;
    if (this.cancel && at >= this.due) return;
    this.cancel?.();
    this.due = at;
    this.cancel = this.clock.setTimer(() => {
      this.cancel = undefined;
      this.due = Infinity;
      this.cycle().then(
        () => {
          this.failures = 0;
          const next = this.pollMs();
          if (Number.isFinite(next)) this.kick(next);
        },
        () => this.kick(backoffMs(++this.failures, this.random)),
      );
    }, delayMs);
  }

  stop(): void {
    this.running = false;
    this.cancel?.();
    this.cancel = undefined;
    this.due = Infinity;
  }
}

/**
 * Keeps a live signal open while `running()`: each poke calls `onPoke`; when the stream ends or fails,
 * it reports `polling` and listens again after a backoff (reset by a stream that connected).
 */
export async function listenLoop(
  clock: Clock,
  random: () => number,
  running: () => boolean,
  listen: (onMode: (mode: 'sse' | 'long-poll') => void) => Promise<void>,
  onLive: (mode: 'sse' | 'long-poll' | 'polling') => void,
): Promise<void> {
  let failures = 0;
  while (running()) {
    let connected = false;
    try {
      await listen((mode) => {
        connected = true;
        onLive(mode);
      });
    } catch {
      // the stream failed: poll until it is back
    }
    failures = connected ? 1 : failures + 1;
    if (!running()) return;
    onLive('polling');
    await new Promise<void>((resolve) => clock.setTimer(resolve, backoffMs(failures, random)));
  }
}

/** The page's events where the runtime has them (browsers): `online` and the page becoming visible. */
interface EventHost {
  addEventListener?(type: string, listener: () => void, options?: { signal?: AbortSignal }): void;
  document?: { visibilityState?: string };
}

/** Calls `wake` when the browser comes back online or the page becomes visible again, until `signal` aborts. */
export function wakeOnPageEvents(wake: () => void, signal: AbortSignal): void {
  const host = globalThis as EventHost;
  if (typeof host.addEventListener !== 'function') return;
  host.addEventListener('online', wake, { signal });
  host.addEventListener('visibilitychange', () => void (host.document?.visibilityState !== 'hidden' && wake()), { signal });
}

import type { CrmContext } from '@crmkit/core';
import { readHead } from './sync-changes.js';

/** Timing of the live signal (design sync.md §9), in milliseconds. */
export interface LiveTiming {
  /** Pokes within this window are sent as one (default 25). */
  readonly coalesceMs?: number;
  /** A `: keep-alive` comment on idle streams (default 15 000). */
  readonly keepAliveMs?: number;
  /** How long `…/poll` waits for a change (default 25 000). */
  readonly pollWaitMs?: number;
  /** Head polling while listeners wait, for adapters without `externalChanges` (default 1 000). */
  readonly headPollMs?: number;
}

/**
 * The tenant's change head, told to listeners when it moves: from `storage.onChange` (local and
 * external batches that touch `syncChange`, and resyncs), or by polling the head where the adapter
 * does not report other processes' commits. Subscribes only while someone listens.
 */
export class Live {
  private readonly listeners = new Set<(head: number) => void>();
  private unsubscribe: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private poller: ReturnType<typeof setInterval> | undefined;
  private last = -1;
  private closed = false;

  constructor(
    private readonly ctx: CrmContext,
    readonly timing: Required<LiveTiming>,
  ) {}

  /** Calls `listener` with the new head after changes; returns the unsubscribe function. */
  listen(listener: (head: number) => void): () => void {
    if (this.closed) return () => undefined;
    this.listeners.add(listener);
    if (!this.unsubscribe) {
      const storage = this.ctx.storage;
      this.unsubscribe = storage.onChange((batch) => {
        if (batch.resync ? !batch.tenants || batch.tenants.includes(this.ctx.tenantId) : batch.changes.some((c) => c.entity === 'syncChange' && c.tenantId === this.ctx.tenantId)) this.schedule();
      });
      if (!storage.capabilities.externalChanges) this.poller = setInterval(() => this.schedule(), this.timing.headPollMs);
    }
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) this.stop();
    };
  }

  /** The current head. */
  head(): Promise<number> {
    return this.ctx.storage.transaction('r', (tx) => readHead(tx, this.ctx.tenantId));
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.head().then((head) => {
        if (head === this.last) return;
        this.last = head;
        for (const listener of [...this.listeners]) listener(head);
      }, () => undefined);
    }, this.timing.coalesceMs);
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearInterval(this.poller);
    this.poller = undefined;
    this.last = -1;
  }

  /** Ends every stream and wait. */
  close(): void {
    this.closed = true;
    for (const listener of [...this.listeners]) listener(-1);
    this.listeners.clear();
    this.stop();
  }
}

const encoder = new TextEncoder();

/**
 * `GET …/live`: a `text/event-stream` — a padded `: connected` comment at once, then `event: poke` with
 * `{"head":N}` after changes and keep-alive comments — with anti-buffering headers; ends on `close` or
 * the request's abort.
 */
export function liveStream(live: Live, signal: AbortSignal): Response {
  let end = () => undefined as void;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          end();
        }
      };
      const keepAlive = setInterval(() => send(': keep-alive\n\n'), live.timing.keepAliveMs);
      const off = live.listen((head) => (head < 0 ? end() : send(`event: poke\ndata: {"head":${head}}\n\n`)));
      end = () => {
        clearInterval(keepAlive);
        off();
        signal.removeEventListener('abort', end);
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      signal.addEventListener('abort', end);
      // Padding: some proxies and browsers hold the first kilobytes of a response back.
      send(`: connected${' '.repeat(2048)}\n\n`);
    },
    cancel: () => end(),
  });
  // Against buffering proxies: `x-accel-buffering: no` (nginx), `no-transform` (compression). No
  // `connection` header: HTTP/2 refuses connection-specific headers.
  return new Response(stream, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store, no-transform', 'x-accel-buffering': 'no' } });
}

/** `GET …/poll?after=N`: waits up to `pollWaitMs` for the head to pass `after`. */
export async function longPoll(live: Live, after: number, signal: AbortSignal): Promise<{ changed: boolean; head: number }> {
  const now = await live.head();
  if (now > after) return { changed: true, head: now };
  return new Promise((resolve) => {
    const finish = (head: number) => {
      clearTimeout(timer);
      off();
      signal.removeEventListener('abort', abort);
      resolve(head > after ? { changed: true, head } : { changed: false, head: Math.max(head, now) });
    };
    const abort = () => finish(now);
    const timer = setTimeout(() => finish(now), live.timing.pollWaitMs);
    const off = live.listen((head) => {
      if (head < 0 || head > after) finish(head < 0 ? now : head);
    });
    signal.addEventListener('abort', abort);
  });
}

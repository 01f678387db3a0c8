import type { PullResponse, PushResponse } from '../protocol/messages.js';
import { errorFromBody, type SyncTransport } from './transport.js';

/** How the HTTP transport talks to a sync server (design sync.md §9, §10). */
export interface HttpTransportOptions {
  /** Per-request headers: the host's authentication (`authorization: Bearer …`). */
  readonly headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** The `fetch` to use (default `globalThis.fetch`): tests, or a host's instrumented fetch. */
  readonly fetch?: typeof fetch;
  /**
   * Milliseconds a push or pull may take, and a live stream may stay silent (the server's keep-alive
   * comes every 15 s), before it is aborted as unreachable (default 30 000).
   */
  readonly timeoutMs?: number;
}

type Fetch = typeof fetch;

/** Milliseconds an event stream may take to deliver its first bytes before the listener long-polls instead. */
const FIRST_BYTE_MS = 10_000;

/**
 * The fetch transport: `POST <endpoint>/push` and `/pull` with JSON bodies; the live signal is the
 * `GET <endpoint>/live` event stream (fetch streaming: `EventSource` cannot send the host's headers),
 * else — no stream, or one that delivers no byte within 10 s (`timeoutMs` if shorter: a buffering proxy) —
 * `GET <endpoint>/poll?after=N` long polls; when both fail the client polls on its timer.
 * A server's error body becomes its `CrmError` again (status in `details.status`); a network failure,
 * a timeout or an answer that is not the server's JSON rejects with a plain `Error` (the client then
 * reports `offline` and retries with backoff).
 *
 * @param endpoint The sync routes' base URL (`https://crm.example.com/sync`; relative in a page).
 */
export function httpTransport(endpoint: string, options: HttpTransportOptions = {}): SyncTransport {
  const base = endpoint.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const call = async (route: string, signal: AbortSignal, ms: number, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { ...(await options.headers?.()) };
    if (body) headers['content-type'] = 'application/json';
    const doFetch: Fetch = options.fetch ?? fetch;
    return doFetch(`${base}/${route}`, {
      method: body ? 'POST' : 'GET',
      headers,
      signal: ms ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : signal,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  };
  /** The JSON answer, or the server's error; anything not JSON (a proxy's page) counts as unreachable. */
  const json = async <T>(response: Response): Promise<T> => {
    if (!/json/.test(response.headers.get('content-type') ?? '')) throw new Error(`sync: no JSON answer (${response.status})`);
    const body = (await response.json()) as T;
    if (!response.ok) throw errorFromBody(body, response.status);
    return body;
  };
  const post = async <T>(route: string, body: unknown, signal: AbortSignal): Promise<T> => json<T>(await call(route, signal, timeoutMs, body));

  /** Reads an event stream until it ends, calling `onPoke` per `poke` event; silent for `timeoutMs` → aborted. */
  const sse = async (response: Response, onPoke: () => void, onOpen: () => void, abort: () => void): Promise<void> => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let idle: ReturnType<typeof setTimeout> | undefined;
    try {
      for (;;) {
        idle = setTimeout(abort, timeoutMs);
        const { done, value } = await reader.read();
        clearTimeout(idle);
        if (done) return;
        onOpen();
        text += value.replace(/\r\n?/g, '\n');
        const events = text.split('\n\n');
        text = events.pop()!;
        for (const event of events) if (/^event: ?poke$/m.test(event)) onPoke();
      }
    } finally {
      clearTimeout(idle);
      reader.cancel().catch(() => undefined);
    }
  };

  let connected = false;
  return {
    push: (body, signal) => post<PushResponse>('push', body, signal),
    pull: (body, signal) => post<PullResponse>('pull', body, signal),
    async listen(onPoke, signal, onMode) {
      let opened = false;
      // Changes made while no stream was open are pulled once a stream is back.
      const open = (mode: 'sse' | 'long-poll') => {
        if (opened) return;
        if (connected) onPoke();
        connected = opened = true;
        onMode?.(mode);
      };
      const stream = new AbortController();
      const both = AbortSignal.any([signal, stream.signal]);
      // The server's first bytes come at once: none within FIRST_BYTE_MS means a proxy buffers the stream.
      let buffered = false;
      const first = setTimeout(() => ((buffered = true), stream.abort()), Math.min(FIRST_BYTE_MS, timeoutMs));
      try {
        const live = await call('live', both, 0);
        if (live.ok && /^text\/event-stream/.test(live.headers.get('content-type') ?? '') && live.body) {
          return await sse(live, onPoke, () => (clearTimeout(first), open('sse')), () => stream.abort());
        }
        clearTimeout(first);
        await live.body?.cancel();
      } catch (error) {
        if (!buffered || signal.aborted) throw error;
      } finally {
        clearTimeout(first);
      }
      // No event stream (an old server, a proxy that refuses or buffers it): long polls until one fails.
      let head = -1;
      while (!signal.aborted) {
        const answer = await json<{ changed: boolean; head: number }>(await call(`poll?after=${Math.max(head, 0)}`, signal, timeoutMs + 30_000));
        if (head >= 0 && answer.changed) onPoke();
        open('long-poll');
        head = answer.head;
      }
    },
  };
}

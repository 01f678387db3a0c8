import { CrmError, type CrmErrorCode } from '@crmkit/core';
import type { PullRequest, PullResponse, PushRequest, PushResponse } from '../protocol/messages.js';

/**
 * How a sync client reaches its server. `push` and `pull` resolve with the server's answer or reject:
 * with a `CrmError` the server answered (its `toJSON()` body), with anything else when the server could
 * not be reached (the client then reports `offline` and retries with backoff).
 */
export interface SyncTransport {
  push(body: PushRequest, signal: AbortSignal): Promise<PushResponse>;
  pull(body: PullRequest, signal: AbortSignal): Promise<PullResponse>;
  /**
   * Optional live signal: calls `onPoke` when the server changed (the client then pulls), and `onMode`
   * with how it listens once connected; settles when the stream ends or `signal` aborts. The client
   * listens again after a backoff, and polls meanwhile.
   */
  listen?(onPoke: () => void, signal: AbortSignal, onMode?: (mode: 'sse' | 'long-poll') => void): Promise<void>;
}

/** A server's error body (`CrmError.toJSON()`) as a `CrmError` again (status kept in `details.status`). */
export function errorFromBody(body: unknown, status: number): CrmError {
  const b = (body ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  const code = (typeof b.code === 'string' && b.code !== 'INTERNAL' ? b.code : 'STORAGE') as CrmErrorCode;
  const details = { ...(code === 'STORAGE' ? { adapter: 'sync', retryable: status >= 500 } : {}), ...b.details, status };
  return new CrmError(code, typeof b.message === 'string' ? b.message : `Sync request failed (${status})`, details as never);
}

/** Something that answers sync requests: `createSyncServer(crm, options)`. */
export interface SyncHandler {
  handle(request: Request): Promise<Response>;
}

/**
 * A transport that calls a sync server's `handle(Request)` in the same process (tests, docs, a
 * server and its devices in one Node process): the same requests as over HTTP, without a network.
 *
 * @param server The sync server.
 * @param options `headers`: per-request headers (the host's authentication); `base`: the URL prefix of the routes.
 */
export function inProcessTransport(server: SyncHandler, options: { readonly headers?: () => Record<string, string> | Promise<Record<string, string>>; readonly base?: string } = {}): SyncTransport {
  const base = options.base ?? 'http://sync.local/sync';
  const send = async <T>(route: string, body: unknown, signal: AbortSignal): Promise<T> => {
    const headers = { 'content-type': 'application/json', ...(await options.headers?.()) };
    const response = await server.handle(new Request(`${base}/${route}`, { method: 'POST', headers, body: JSON.stringify(body), signal }));
    const json = (await response.json()) as unknown;
    if (!response.ok) throw errorFromBody(json, response.status);
    return json as T;
  };
  return {
    push: (body, signal) => send<PushResponse>('push', body, signal),
    pull: (body, signal) => send<PullResponse>('pull', body, signal),
  };
}

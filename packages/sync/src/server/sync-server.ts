import { CrmError, type Crm, type CrmContext, type Principal } from '@crmkit/core';
import { invalid } from '../protocol/errors.js';
import { LIMITS } from '../protocol/messages.js';
import { errorResponse, json, readJson, withStatus } from './http.js';
import { Live, liveStream, longPoll, type LiveTiming } from './live.js';
import { prune } from './prune.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { SYNC_CONTEXT, type SyncChangesApi } from './sync-changes.js';

/** How a sync server authenticates, and its limits. */
export interface SyncServerOptions {
  /** The authenticated principal of a request (the host's auth), or `undefined` → 401. */
  readonly principal: (request: Request) => Promise<Principal | undefined> | Principal | undefined;
  /**
   * Request limits: body bytes (default 1 MiB), commands per push (100), rows per pull page (2 000), and a
   * pull page's size in JSON characters of its rows (default 1 MiB; whole server transactions, so one
   * oversized row or transaction still goes, alone).
   */
  readonly limits?: { readonly bodyBytes?: number; readonly commands?: number; readonly pageRows?: number; readonly pageBytes?: number };
  /**
   * How far back a pushed command may be dated, in ms (default 7 days): a command runs at the time the
   * user ran it on the device, but not earlier than this before the server's now (older offline work is
   * dated at that bound), not before the device's previous command and not after the server's now.
   */
  readonly maxCommandAgeMs?: number;
  /** Live-signal timing (tests shorten it). */
  readonly live?: LiveTiming;
}

/** The HTTP side of device sync. */
export interface SyncServer {
  /**
   * Answers one request, routed by its last path segment: `POST …/push`, `POST …/pull` (JSON bodies),
   * `GET …/live` (server-sent events), `GET …/poll?after=N` (long poll). Errors are `CrmError.toJSON()`
   * bodies (design sync.md §10, §12); never rejects.
   */
  handle(request: Request): Promise<Response>;
  /**
   * Deletes tombstones (changes of deleted records) last written before `before` (a timestamp) and
   * remembers the highest pruned position: a device whose checkpoint is older pulls a reset.
   *
   * @returns How many tombstones were deleted and the horizon position.
   */
  prune(options: { readonly before: string }): Promise<{ readonly tombstones: number; readonly horizon: number }>;
  /** Ends live streams and waiting polls. */
  close(): Promise<void>;
}

/** The `syncChanges()` context behind a crm. @throws CrmError `VALIDATION` (`feature_required`) without it. */
function contextOf(crm: Crm): CrmContext {
  const api = (crm as unknown as { syncChanges?: SyncChangesApi & { [SYNC_CONTEXT]?: CrmContext } }).syncChanges;
  const ctx = api?.[SYNC_CONTEXT];
  if (!ctx) throw invalid('createSyncServer', [{ path: ['crm'], code: 'feature_required', message: 'needs the syncChanges() feature' }]);
  return ctx;
}

/**
 * Serves device sync for one crm (one tenant): pushes run commands exactly once through
 * `crm.as(principal)`, pulls page changes with scope exits, live streams poke devices.
 *
 * @param crm A crm with `syncChanges()` (and `tasks()`, `activities()` for the commands that need them).
 * @param options The host's authentication and limits.
 * @throws CrmError `VALIDATION` (`feature_required`) when the crm lacks `syncChanges()`; at `maxCommandAgeMs` when it is not a number ≥ 0; at `limits.<name>` when a limit is not a whole number ≥ 1.
 * @example
 * const server = createSyncServer(crm, { principal: (request) => sessions.principalOf(request) });
 * http.createServer(getRequestListener((request) => server.handle(request))).listen(8787);
 */
export function createSyncServer(crm: Crm, options: SyncServerOptions): SyncServer {
  const ctx = contextOf(crm);
  const maxAge = options.maxCommandAgeMs;
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !(maxAge >= 0))) throw invalid('createSyncServer', [{ path: ['maxCommandAgeMs'], code: 'invalid_type', message: 'must be a number of ms ≥ 0' }]);
  // A limit of 0, a negative one or NaN would refuse or break every request: refused here, at the limit's path (review13b B5).
  const bad = Object.entries(options.limits ?? {}).filter(([, value]) => value !== undefined && !(Number.isSafeInteger(value) && value >= 1));
  if (bad.length) throw invalid('createSyncServer', bad.map(([key]) => ({ path: ['limits', key], code: 'invalid_type', message: 'must be a whole number ≥ 1' })));
  const limits = { bodyBytes: options.limits?.bodyBytes ?? LIMITS.bodyBytes, commands: options.limits?.commands ?? LIMITS.commands, pageRows: options.limits?.pageRows ?? LIMITS.pageRows, pageBytes: options.limits?.pageBytes ?? 1024 * 1024 };
  const live = new Live(ctx, { coalesceMs: 25, keepAliveMs: 15_000, pollWaitMs: 25_000, headPollMs: 1_000, ...options.live });
  let closed = false;

  const route = async (request: Request): Promise<Response> => {
    if (closed) throw new CrmError('CLOSED', 'This sync server is closed', { what: 'sync server' });
    const url = new URL(request.url);
    const name = url.pathname.split('/').filter(Boolean).at(-1) ?? '';
    const method = { push: 'POST', pull: 'POST', live: 'GET', poll: 'GET' }[name];
    if (!method) throw new CrmError('NOT_FOUND', `No sync route ${url.pathname}`, { entity: 'route', id: name });
    if (request.method !== method) throw withStatus(invalid(`sync.${name}`, [{ path: [], code: 'method_not_allowed', message: `must be ${method}` }]), 405);
    const principal = await options.principal(request);
    if (!principal) throw withStatus(new CrmError('FORBIDDEN', 'The request is not authenticated', { action: `sync.${name}`, reason: 'unauthenticated' }), 401);
    if (name === 'push') return json(await push(ctx, principal, await readJson(request, limits.bodyBytes, 'sync.push'), limits.commands, maxAge, limits.bodyBytes));
    if (name === 'pull') return json(await pull(ctx, principal, await readJson(request, limits.bodyBytes, 'sync.pull'), limits.pageRows, limits.pageBytes));
    if (name === 'live') return liveStream(live, request.signal);
    const after = Number(url.searchParams.get('after') ?? 0);
    if (!Number.isSafeInteger(after) || after < 0) throw invalid('sync.poll', [{ path: ['after'], code: 'invalid_type', message: 'must be a change position (integer ≥ 0)' }]);
    return json(await longPoll(live, after, request.signal));
  };

  return {
    handle: (request) => route(request).catch(errorResponse),
    prune: ({ before }) => prune(ctx, before),
    async close() {
      closed = true;
      live.close();
    },
  };
}

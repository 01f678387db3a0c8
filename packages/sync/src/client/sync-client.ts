import { isCrmError, type Crm, type CrmContext, type CrmError } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { newClientId } from '../protocol/command-ids.js';
import { COMMANDS, type CommandName } from '../protocol/commands.js';
import { invalid, type CrmErrorJson } from '../protocol/errors.js';
import { LIMITS, type PullResponse } from '../protocol/messages.js';
import { commandProxy } from './command-proxy.js';
import { judgeRead } from './hidden-reads.js';
import { asCommand, assertPredecessors, commandId, listCommands, recordCommand, updateCommands, type CommandRow } from './command-log.js';
import { offline, type Device } from './device.js';
import { deviceLock } from './device-lock.js';
import { leftToServer, localErrorOf, touchRecord, type DeferReason } from './defer-command.js';
import { prepareCommand, runLocal, withVersion } from './local-command.js';
import { pullPages } from './pull-pages.js';
import { pushCommands } from './push-commands.js';
import { rebase, type Verdicts } from './rebase.js';
import { replicaOf, type ReplicaControl } from './replica-storage.js';
import { listenLoop, SyncLoop, wakeOnPageEvents } from './sync-loop.js';
import { onReplicaClose, replicaContext } from './sync-replica.js';
import { readState, writeState } from './sync-state.js';
import { StatusStore, type SyncError, type SyncStatus } from './sync-status.js';
import { httpTransport, type HttpTransportOptions } from './http-transport.js';
import type { SyncTransport } from './transport.js';

/** How a device syncs. */
export interface SyncClientOptions<C extends Crm> extends HttpTransportOptions {
  /** The device crm: `replicaStorage` + `syncReplica()`, without `scheduler()`, `automations()`, `webhooks()`, `imports()` (the server runs them). */
  readonly crm: C;
  /** The sync routes' base URL (`/sync` in a page): the HTTP transport with `headers`, `fetch`, `timeoutMs`; or */
  readonly endpoint?: string;
  /** a transport (`inProcessTransport(server)` in tests); exactly one of the two. */
  readonly transport?: SyncTransport;
  /** Polling interval without a live signal, ms (default 30 000). */
  readonly pollMs?: number;
  /** Rows per pull page, 1–2000 (default 500). */
  readonly pageRows?: number;
  /** Start the loop at once (default true); else call `start()` or `syncNow()`. */
  readonly start?: boolean;
}

/** A command run on the device (`client.execute`). */
export interface Executed {
  /**
   * What the device's run returned; for a command left to the server the record as the device holds it,
   * for a create its input as recorded (`{ id, …input }`: the id the device chose, no version or defaults).
   */
  readonly result: unknown;
  readonly seq: number;
  /** Set when the command was recorded but left to the server, awaiting its verdict (design sync.md §24); absent: done on the device. */
  readonly deferred?: DeferReason;
  /** The device's own verdict of a command left to the server (`VALIDATION` issue code `hidden_field` / `not_judged`, or the rule's refusal). */
  readonly localError?: CrmErrorJson;
}

/** A device's sync client. */
export interface SyncClient<C extends Crm> {
  /** The crm with pushable writes turned into commands (run on the device at once, pushed later); reads pass through. */
  readonly crm: C;
  /**
   * Runs a pushable method as a command: on the device at once (its rules judge it; a refusal throws
   * and records nothing), then pushed. Rows the user receives field-projected are run with placeholders
   * for their hidden fields (never stored). A run the device cannot judge (`DeferReason`) is recorded all
   * the same with `deferred` and `localError` and left to the server: the record keeps its fields on the
   * device (its version moves on) until the server's verdict arrives (`status().deferred` lists these).
   *
   * @returns The device's result, the command's seq; `deferred` and `localError` when left to the server.
   * @throws CrmError `VALIDATION` (arity, id shapes, `sync_unsupported`), or what the service throws on the device.
   */
  execute(name: CommandName, ...args: unknown[]): Promise<Executed>;
  /** The current status: the same object until something changes. */
  status(): SyncStatus;
  /** Calls `listener` after each status change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /**
   * One cycle: push every unanswered command, pull until the server has no more, rebase.
   *
   * @throws CrmError what the server answered, or `STORAGE` (`retryable`, `operation: 'sync'`) when it cannot be reached.
   */
  syncNow(): Promise<void>;
  /** Forgets rejected commands (the UI showed them); `renewed: true` forgets `status().renewed` too. */
  dismiss(seqs: readonly number[], options?: { readonly renewed?: boolean }): Promise<void>;
  /** Starts the loop (cycles on start, after commands, by timer; backoff on failures). */
  start(): void;
  /** Stops the loop and waits for a running cycle. */
  stop(): Promise<void>;
}

/** The server could not be reached (no answer): `STORAGE` of the `sync` adapter without an HTTP status. */
const unreachable = (e: CrmError): boolean => isCrmError(e, 'STORAGE') && e.details.adapter === 'sync' && !('status' in e.details);

const FORBIDDEN_FEATURES = ['scheduler', 'automations', 'webhooks', 'imports'];

function options<C extends Crm>(input: SyncClientOptions<C>): { ctx: CrmContext; replica: ReplicaControl; transport: SyncTransport } {
  const issue = (path: string, code: string, message: string) => invalid('createSyncClient', [{ path: [path], code, message }]);
  if (!input.transport === !input.endpoint) throw issue('transport', 'transport', 'give exactly one of endpoint and transport');
  const { pageRows, pollMs } = input;
  if (pageRows !== undefined && !(Number.isInteger(pageRows) && pageRows >= 1 && pageRows <= LIMITS.pageRows)) throw issue('pageRows', 'invalid_value', `must be an integer from 1 to ${LIMITS.pageRows}`);
  if (pollMs !== undefined && !(Number.isFinite(pollMs) && pollMs >= 1)) throw issue('pollMs', 'invalid_value', 'must be a positive number of milliseconds');
  if (input.endpoint !== undefined && !URL.canParse(input.endpoint, (globalThis as { location?: { href: string } }).location?.href)) throw issue('endpoint', 'invalid_format', 'must be a URL (relative only in a page)');
  const ctx = replicaContext(input.crm);
  if (!ctx) throw issue('crm', 'feature_required', 'needs the syncReplica() feature');
  const replica = replicaOf(ctx.storage);
  if (!replica) throw issue('crm', 'replica_storage', 'its storage must be a replicaStorage(inner)');
  const extra = FORBIDDEN_FEATURES.filter((key) => key in input.crm);
  if (extra.length) throw issue('crm', 'sync_features', `must not run ${extra.join(', ')}: the server runs them`);
  return { ctx, replica, transport: input.transport ?? httpTransport(input.endpoint!, input) };
}


/**
 * Connects a device crm to its server (design sync.md §8, §10): creates or reads the device's state
 * (client id, checkpoint), runs the start-up rebase (a crash left the store in any state: it goes back
 * to base + pending commands), then starts the loop unless `start: false`.
 *
 * @throws CrmError `VALIDATION`: `pageRows` (not 1–2000), `pollMs` (not positive), `device_user` (the database was made for another actor), `transport`
 *   (both or neither of endpoint and transport), `endpoint`
 *   (`invalid_format`: not a URL; relative only where the page has a location),
 *   `feature_required` (no `syncReplica()`), `replica_storage`, `sync_features` (scheduler, automations,
 *   webhooks or imports installed).
 * @example
 * const sync = await createSyncClient({ crm: local, transport: inProcessTransport(server, { headers: () => ({ 'x-user': 'anna' }) }) });
 * await sync.crm.deals.advance(dealId);   // at once on the device, pushed when online
 */
export async function createSyncClient<C extends Crm>(input: SyncClientOptions<C>): Promise<SyncClient<C>> {
  const { ctx, replica, transport } = options(input);
  const tenant = ctx.tenantId;
  const pageRows = input.pageRows ?? LIMITS.defaultPageRows;
  const now = () => new Date(ctx.clock.now()).toISOString();
  // A listener's bug (a UI) must not fail the command or the cycle that changed the status.
  const store = new StatusStore((error) => ctx.logger.error('crmkit sync: a status listener threw', { error }));
  /** Storage work of commands, page applies and rebases runs one at a time (network calls do not hold it). */
  const serial = deviceLock(`crmkit-sync:${ctx.storage.name}:${tenant}`);

  const userId = ctx.actor?.userId;
  await serial(() => replica.transaction('apply', async (tx) => {
    const stored = await readState(tx, tenant);
    if (!stored) await writeState(tx, tenant, now(), {}, { clientId: newClientId(ctx.random), checkpoint: null, epoch: 0, verdictsThrough: 0, ...(userId ? { userId } : {}) });
    // One database per user: another user's crm on it would read the first user's rows.
    else if (stored.userId !== undefined && stored.userId !== userId) {
      throw invalid('createSyncClient', [{ path: ['crm', 'actor'], code: 'device_user', message: `this database holds the rows of another user: open a database of its own for "${String(userId)}"` }]);
    }
  }));

  const replay = async (tx: StorageTx, command: CommandRow) => {
    await assertPredecessors(tx, tenant, command, COMMANDS[command.name].target);
    await runLocal(ctx, tx, asCommand(command));
  };
  /** Why a failed run is left to the server (`undefined`: a refusal that throws); a device fault is logged, not shown. */
  const deferOf = async (tx: StorageTx, name: CommandName, args: readonly unknown[], error: unknown) => {
    const reason = await leftToServer(tx, tenant, name, args, error);
    if (reason === 'not_judged') ctx.logger.warn(`crmkit sync: the device could not run ${name}; the server decides`, { error });
    return reason;
  };
  const refused = async (tx: StorageTx, command: CommandRow, error: unknown) => {
    const reason = await deferOf(tx, command.name, command.args, error);
    if (reason) await touchRecord(tx, tenant, asCommand(command));
    return reason;
  };
  const rebaseWith = (verdicts: Verdicts) => serial(() => rebase(replica, tenant, verdicts, replay, refused));

  const errors: SyncError[] = [];
  const refresh = async (change: Partial<SyncStatus> = {}) => {
    const [commands, s] = await replica.transaction('apply', async (tx) => [await listCommands(tx, tenant), await readState(tx, tenant)] as const);
    const standing = commands.filter((c) => c.status !== 'rejected');
    store.set({
      pending: standing.length,
      unpushed: standing.filter((c) => c.status === 'pending').length,
      rejected: commands.filter((c) => c.status === 'rejected').map((c) => ({ seq: c.seq, name: c.name, args: c.args, at: new Date(c.at).toISOString(), error: c.error! })),
      deferred: standing.filter((c) => c.deferred).map((c) => ({ seq: c.seq, name: c.name, at: new Date(c.at).toISOString(), reason: c.deferred! })),
      errors: [...errors],
      ...(s?.lastSyncAt ? { lastSyncAt: s.lastSyncAt } : {}),
      renewed: s?.renewed,
      ...change,
    });
  };

  const execute = async (name: CommandName, args: readonly unknown[]) => {
    ctx.assertOpen();
    const prepared = prepareCommand(ctx, name, args);
    // Dated by the server's clock as last measured, and not before the previous command (a clock set back): the server's clamp then keeps it.
    const dated = async (tx: StorageTx, seq: number) => {
      const [previous] = (await tx.getMany('syncCommand', tenant, [commandId(seq - 1)])) as (CommandRow | undefined)[];
      const at = Math.max(prepared.at + ((await readState(tx, tenant))?.clockOffset ?? 0), previous?.at ?? 0);
      return withVersion(tx, tenant, { ...prepared, at });
    };
    const out = await serial(async () => {
      let release = () => undefined as void;
      let seq: number | undefined;
      const done = await replica.transaction('command', async (tx) => {
        seq = await tx.nextSequence('syncCommand', tenant, 1);
        const command = await dated(tx, seq);
        const run = await runLocal(ctx, tx, command);
        await recordCommand(tx, tenant, { ...command, seq, status: 'pending', applied: true, createdAt: now() });
        release = run.release;
        return { result: run.result, seq };
      }, () => seq).catch((error: unknown) => replica.transaction('command', async (tx): Promise<Executed> => {
        // The device could not judge it (review13 R6, review13b B2): recorded with the failure as `localError`, pushed, judged by the server.
        const deferred = await deferOf(tx, name, prepared.args, error);
        if (!deferred) throw error;
        seq = await tx.nextSequence('syncCommand', tenant, 1);
        const command = await dated(tx, seq);
        const localError = localErrorOf(command.name, error);
        const result = await touchRecord(tx, tenant, command);
        await recordCommand(tx, tenant, { ...command, seq, status: 'pending', applied: true, localError, deferred, createdAt: now() });
        return { result, seq, localError, deferred };
      }, () => seq));
      release();
      return done;
    });
    await refresh();
    loop.kick(50);
    return out;
  };

  const device: Device = { ctx, replica, transport, tenant, serial, now, rebase: rebaseWith };
  let initial: { rows: number; done: boolean } | undefined;
  const onPage = (page: PullResponse, first: boolean) => {
    if (first && !initial) initial = { rows: 0, done: false };
    if (initial && !initial.done) {
      initial = { rows: initial.rows + page.rows.length, done: !page.hasMore };
      store.set({ initialSync: initial });
    }
  };

  let abort = new AbortController();
  let cycling: Promise<void> = Promise.resolve();
  const cycle = (): Promise<void> => {
    const run = async () => {
      await refresh({ state: 'syncing' });
      try {
        // A push the server refused (not an unreachable one) does not keep the server's changes away: pull, then report it.
        const refused = await pushCommands(device, abort.signal).then(() => undefined, (error: unknown) => {
          if (!isCrmError(error) || unreachable(error)) throw error;
          return error;
        });
        await pullPages(device, pageRows, abort.signal, onPage);
        if (refused) throw refused;
        errors.length = 0;
        await refresh({ state: 'idle' });
      } catch (error) {
        const e = isCrmError(error) ? error : offline('sync', error);
        const extra = error as { seq?: number; stuck?: boolean };
        errors.splice(0, errors.length, { code: e.code, message: e.message, at: now(), ...(extra.seq ? { seq: extra.seq } : {}), ...(extra.stuck ? { stuck: true } : {}) });
        await refresh({ state: unreachable(e) ? 'offline' : 'error' }).catch(() => undefined);
        throw e;
      }
    };
    cycling = cycling.then(run, run);
    return cycling;
  };
  const pollMs = input.pollMs ?? 30_000;
  // While a live signal is connected, pokes (and each reconnect) start cycles: no polling timer.
  const connected = () => store.get().live === 'sse' || store.get().live === 'long-poll';
  const loop = new SyncLoop(ctx.clock, cycle, () => (connected() ? Infinity : pollMs), () => ctx.random.next());

  await rebaseWith({ confirmedThrough: 0, rejected: [] });
  await refresh();
  const client: SyncClient<C> = {
    crm: commandProxy(input.crm, (name, args) => execute(name, args).then((r) => r.result), async (name, args) => {
      judgeRead(name, args, (await ctx.storage.transaction('r', (tx) => readState(tx, tenant)))?.hidden ?? {}, userId ?? '');
    }),
    execute: (name, ...args) => execute(name, args),
    status: () => store.get(),
    subscribe: (listener) => store.subscribe(listener),
    syncNow: () => cycle(),
    async dismiss(seqs, options) {
      const wanted = new Set(seqs);
      await serial(() => replica.transaction('apply', async (tx) => {
        const rows = await listCommands(tx, tenant, ['rejected']);
        await updateCommands(tx, tenant, rows, (r) => (wanted.has(r.seq) ? null : undefined));
        if (options?.renewed) await writeState(tx, tenant, now(), { renewed: undefined });
      }));
      await refresh();
    },
    start() {
      if (loop.running) return;
      abort = new AbortController();
      loop.start();
      const { state } = store.get();
      store.set({ state: state === 'stopped' ? 'idle' : state, live: 'polling' }); // a failed syncNow() stays shown until the next cycle
      wakeOnPageEvents(() => loop.kick(0), abort.signal);
      const { listen } = transport;
      if (listen) {
        const signal = abort.signal;
        void listenLoop(ctx.clock, () => ctx.random.next(), () => loop.running && !signal.aborted, (onMode) => listen.call(transport, () => loop.kick(0), signal, onMode), (live) => {
          if (signal.aborted) return;
          store.set({ live });
          if (live === 'polling') loop.kick(pollMs);
        });
      }
    },
    async stop() {
      loop.stop();
      abort.abort();
      await cycling.catch(() => undefined);
      await refresh({ state: 'stopped', live: 'none' }).catch(() => store.set({ state: 'stopped', live: 'none' }));
    },
  };
  onReplicaClose(ctx, () => client.stop());
  if (input.start !== false) client.start();
  return client;
}

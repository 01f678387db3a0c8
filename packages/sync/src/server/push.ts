import { isCrmError, type CrmContext, type CrmError, type Principal } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { createCommandIds } from '../protocol/command-ids.js';
import { COMMANDS, MAX_COMMAND_AGE_MS, commandTime, createIdIssues, pinnedClock, runCommand, type SyncableCrm } from '../protocol/commands.js';
import { invalid, predecessorConflict } from '../protocol/errors.js';
import { LIMITS, pushRequestSchema, type Command, type CommandResult, type PushResponse } from '../protocol/messages.js';
import { issuesOf, parseWith } from '../protocol/parse.js';
import { changeKey } from '../protocol/synced-entities.js';
import { boundStorage } from './bound-storage.js';
import { heldEvents } from './held-events.js';
import { PUSHED_BY, type SyncChangeRow } from './sync-changes.js';
import { tooBig, withStatus } from './http.js';
import { assertOwner, commandDigest, keptRejections, readClient, reusedSeq, storedVerdict, withDigest, writeClient, type SyncClientRow } from './sync-client-row.js';

/** Verdicts that reject a command for good (recorded, never retried); anything else stops the batch. */
const REJECTS = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'RULE_VIOLATION', 'FORBIDDEN']);
/** Whole-command re-runs after a `CONFLICT` (a race with a concurrent writer, a duplicate push). */
const RETRIES = 3;

const timestamp = (ctx: CrmContext) => new Date(ctx.clock.now()).toISOString();

function sequenceGap(expected: number, path: readonly (string | number)[]): CrmError<'VALIDATION'> {
  const issue = { path, code: 'sequence_gap', message: `must be ${expected}: the server has this client's commands only through ${expected - 1} (restored from a backup?); push from ${expected}`, expected };
  return withStatus(invalid('sync.push', [issue]), 409);
}

/**
 * Checks a push body: its shape, each command's arity and id shapes, the batch size, ascending and
 * consecutive seqs. Nothing runs when it throws.
 *
 * @throws CrmError `VALIDATION` (400; 413 over `maxCommands`) naming every problem at its path.
 */
export function parsePush(body: unknown, maxCommands: number): { clientId: string; commands: readonly Command[]; ackRejectedThrough?: number; since?: number } {
  const count = (body as { commands?: unknown } | null)?.commands;
  if (Array.isArray(count) && count.length > maxCommands) throw tooBig('sync.push', ['commands'], maxCommands, 'commands');
  const request = parseWith(pushRequestSchema, body, 'sync.push');
  const issues = request.commands.flatMap((command, i) => {
    // A command too large to send comes without its args: it is rejected when its turn comes.
    const args = command.tooLarge ? { success: true as const } : COMMANDS[command.name].args.safeParse(command.args);
    const found = args.success ? [] : issuesOf(args.error, ['commands', i, 'args']);
    return command.seq === request.commands[0]!.seq + i ? found : [...found, { path: ['commands', i, 'seq'], code: 'sequence_order', message: 'seqs of a push must be ascending and consecutive' }];
  });
  if (issues.length) throw invalid('sync.push', issues);
  return request;
}

/**
 * Runs a device's commands exactly once (design sync.md §6): each in its own transaction that also
 * advances the client's `lastSeq`, so a retried or duplicated push answers the recorded verdicts and
 * applies nothing twice. A rejected command (`VALIDATION`, `NOT_FOUND`, `CONFLICT`, `RULE_VIOLATION`,
 * `FORBIDDEN`) advances `lastSeq` with its verdict and leaves no trace; a `STORAGE` / `CLOSED` failure or
 * a bug stops the batch there (`stopped`), nothing of that command applied.
 *
 * @param ctx The server crm's context.
 * @param principal Who the device acts for: commands run through `crm.as(principal)`'s rules.
 * @param maxAgeMs How far back a command may be dated (`commandTime`): each runs at the time the user
 *   ran it, clamped to [previous applied command's time, server now] and to at most `maxAgeMs` old.
 * @param bodyBytes The server's body limit (`limits.bodyBytes`): named in the rejection of a command sent as `tooLarge`.
 * @throws CrmError `VALIDATION` (bad body: 400/413; `sequence_gap`: 409), `FORBIDDEN` (`client_owner`: 403).
 */
export async function push(ctx: CrmContext, principal: Principal, body: unknown, maxCommands: number, maxAgeMs = MAX_COMMAND_AGE_MS, bodyBytes: number = LIMITS.bodyBytes): Promise<PushResponse> {
  const request = parsePush(body, maxCommands);
  const { clientId } = request;
  const tenant = ctx.tenantId;
  const digests = await Promise.all(request.commands.map(commandDigest));
  let lastSeq = await ctx.storage.transaction('rw', async (tx) => {
    const client = await readClient(tx, tenant, clientId);
    assertOwner(client, principal, 'sync.push');
    // A client the server has no row of starts at `since` (a device's renewed client id) or 1.
    const start = client ? client.lastSeq : (request.since ?? 1) - 1;
    if (request.commands[0]!.seq > start + 1) throw sequenceGap(start + 1, ['commands', 0, 'seq']);
    if (client) {
      const reused = request.commands.map((c, i) => c.seq <= start && reusedSeq(client, c, digests[i]!, ['commands', i, 'seq'])).find(Boolean);
      if (reused) throw reused;
    }
    const now = timestamp(ctx);
    const fresh = { digests: [], digestFrom: 1, createdAt: now };
    await writeClient(tx, tenant, client, {
      ...(client ?? fresh), id: clientId, userId: principal.userId, lastSeq: start, rejected: keptRejections(client?.rejected ?? [], request.ackRejectedThrough),
      lastSeenAt: now, updatedAt: now,
    });
    return start;
  });
  const results: CommandResult[] = [];
  for (const [i, command] of request.commands.entries()) {
    const outcome = await runOnce(ctx, principal, clientId, command, digests[i]!, maxAgeMs, bodyBytes);
    if ('stop' in outcome) return { protocol: 1, lastSeq, results, stopped: { seq: command.seq, error: outcome.stop } };
    results.push(outcome);
    lastSeq = Math.max(lastSeq, command.seq);
  }
  return { protocol: 1, lastSeq, results };
}

/**
 * `CONFLICT` (`reason: 'predecessorRejected'`) for a command whose `after` names a rejected command of
 * the device: its version was predicted from that command's write, which never happened, so a foreign
 * write may have produced the same number (review13 R3). The device holds its acknowledgement of such a
 * rejection until the successor is answered, so the server still has it. `actualVersion` is `null`: the
 * answer is the same whether the record exists, is hidden from the user or is readable.
 */
function predecessorRejected(client: SyncClientRow, command: Command): CrmError<'CONFLICT'> | undefined {
  const seq = command.after?.find((s) => client.rejected.some((r) => r.seq === s));
  const entity = COMMANDS[command.name].target;
  if (seq === undefined || !entity) return undefined;
  const expected = (command.args[1] as { version?: number } | undefined)?.version ?? null;
  // The record is not read: its version (or its absence) would tell a user who may not read it that it exists (review13b B7).
  return predecessorConflict(command.name, seq, entity, command.args[0] as string, expected, null);
}

/**
 * The args to run: a `version` the record no longer has is replaced by the stored one when every write
 * since that version was this client's own (design sync.md §25) — its earlier commands, applied here
 * whatever the device made of them. The device sends the server version the user's view rests on, never
 * a prediction (fix13i), so an equal number always means the same state.
 */
export async function ownVersion(tx: StorageTx, tenantId: string, clientId: string, command: Command): Promise<readonly unknown[]> {
  const entity = COMMANDS[command.name].target;
  const [id, options] = command.args as [string, { version?: unknown } | undefined];
  const version = options?.version;
  // Only a version core takes (a whole number ≥ 1): anything else goes to the service as sent, which refuses it (review13d D4).
  if (!entity || typeof version !== 'number' || !Number.isInteger(version) || version < 1) return command.args;
  const [[row], [change]] = await Promise.all([tx.getMany(entity, tenantId, [id]), tx.getMany('syncChange', tenantId, [changeKey(entity, id)]) as Promise<(SyncChangeRow | undefined)[]>]);
  const own = row && version < row.version && change?.by === clientId && change.v === row.version && change.from! <= version;
  return own ? [id, { ...options, version: row.version }, ...command.args.slice(2)] : command.args;
}

/** An insert whose id is taken (core's `conflict(entity, id, null, …)`), not a unique key or a version check. */
function insertCollision(error: CrmError): boolean {
  const details = error.details as { expectedVersion?: unknown; key?: unknown };
  return error.code === 'CONFLICT' && details.expectedVersion === null && details.key === undefined;
}

/**
 * The one verdict for a pushed create whose id (or a derived id of its seed) another record holds:
 * whether the holder is readable or hidden, the answer is the same and names neither it nor its
 * version (an id of a hidden record must not tell that the record exists; review13 R14). Never retried.
 */
function idUnavailable(command: Command, id: string): CrmError<'VALIDATION'> {
  const own = (command.args[0] as { id?: unknown } | undefined)?.id === id;
  return invalid(command.name, [{ path: own ? ['args', 0, 'id'] : ['seed'], code: 'id_unavailable', message: 'cannot be used for a new record: the device must choose new ids' }]);
}

type Outcome = CommandResult | { readonly stop: ReturnType<CrmError['toJSON']> };

/** `VALIDATION` `too_large` for a command the device could not send (`tooLarge`: its JSON's bytes), naming the limit. */
function tooLarge(command: Command, bodyBytes: number): CrmError<'VALIDATION'> | undefined {
  const bytes = command.tooLarge;
  if (!bytes) return undefined;
  const issue = { path: ['args'], code: 'too_large', message: `the command is ${bytes} bytes of JSON, over the sync server's body limit of ${bodyBytes} bytes: it cannot be pushed`, bytes, limit: bodyBytes };
  return invalid(command.name, [issue]);
}

async function runOnce(ctx: CrmContext, principal: Principal, clientId: string, command: Command, digest: string, maxAgeMs: number, bodyBytes: number): Promise<Outcome> {
  const tenant = ctx.tenantId;
  const spec = COMMANDS[command.name];
  for (let attempt = 0; ; attempt++) {
    const events = heldEvents(ctx.bus);
    try {
      const verdict = await ctx.storage.transaction('rw', async (tx): Promise<CommandResult & { fresh?: true }> => {
        const client = (await readClient(tx, tenant, clientId)) as SyncClientRow;
        if (command.seq <= client.lastSeq) {
          const reused = reusedSeq(client, command, digest, ['seq']);
          if (reused) throw reused;
          return storedVerdict(client, command.seq);
        }
        if (command.seq > client.lastSeq + 1) throw sequenceGap(client.lastSeq + 1, ['seq']);
        const refused = tooLarge(command, bodyBytes) ?? predecessorRejected(client, command);
        if (refused) {
          const error = refused.toJSON();
          await writeClient(tx, tenant, client, { ...client, ...withDigest(client, command.seq, digest), lastSeq: command.seq, rejected: keptRejections(client.rejected, undefined, { seq: command.seq, error }), updatedAt: timestamp(ctx) });
          return { seq: command.seq, status: 'rejected', error };
        }
        // The business time: when the user ran it, clamped (a device cannot date work before its last or in the future).
        const at = commandTime(command.at, client.lastAt ?? 0, ctx.clock.now(), maxAgeMs);
        // The client row first: a concurrent duplicate waits here (rows before counters), then re-reads.
        await writeClient(tx, tenant, client, { ...client, ...withDigest(client, command.seq, digest), lastSeq: command.seq, lastAt: at, updatedAt: timestamp(ctx) });
        const issues = createIdIssues(spec, command.args);
        if (issues.length) throw invalid(command.name, issues);
        PUSHED_BY.set(tx, clientId);
        const args = await ownVersion(tx, tenant, clientId, command);
        const ids = createCommandIds(command.at, command.seed);
        const view = ctx.scope!({ storage: boundStorage(ctx.storage, tx), bus: events.bus, bound: true, clock: pinnedClock(ctx.clock, at), newId: (entity, nowMs) => (entity === 'event' ? ctx.newId(entity, nowMs) : ids(entity)) }, principal);
        await runCommand(view as SyncableCrm, command.name, args);
        return { seq: command.seq, status: 'applied', fresh: true };
      });
      if (verdict.fresh) events.release();
      return verdict.status === 'applied' ? { seq: verdict.seq, status: 'applied' } : verdict;
    } catch (error) {
      if (!isCrmError(error)) {
        // A bug, not a verdict: never recorded; the device keeps the command and retries it.
        ctx.logger.error('crmkit sync: a pushed command failed with an error that is not a CrmError', { clientId, seq: command.seq, name: command.name, error });
        return { stop: { name: 'CrmError', code: 'STORAGE', message: 'The command failed unexpectedly', details: { adapter: ctx.storage.name, retryable: true, operation: command.name } } };
      }
      if (!REJECTS.has(error.code)) return { stop: error.toJSON() };
      if (insertCollision(error)) return reject(ctx, clientId, command.seq, digest, idUnavailable(command, (error.details as { id: string }).id));
      if (isCrmError(error, 'VALIDATION') && error.details.issues.some((i) => i.code === 'sequence_gap' || i.code === 'sequence_reused')) return { stop: error.toJSON() };
      if (error.code === 'CONFLICT' && attempt < RETRIES) continue;
      return reject(ctx, clientId, command.seq, digest, error);
    }
  }
}

/** Records a rejection: `lastSeq` advances with the verdict, nothing of the command is stored. */
async function reject(ctx: CrmContext, clientId: string, seq: number, digest: string, error: CrmError): Promise<Outcome> {
  const tenant = ctx.tenantId;
  return ctx.storage.transaction('rw', async (tx) => {
    const client = (await readClient(tx, tenant, clientId)) as SyncClientRow;
    if (seq <= client.lastSeq) return storedVerdict(client, seq);
    const json = error.toJSON();
    await writeClient(tx, tenant, client, { ...client, ...withDigest(client, seq, digest), lastSeq: seq, rejected: keptRejections(client.rejected, undefined, { seq, error: json }), updatedAt: timestamp(ctx) });
    return { seq, status: 'rejected' as const, error: json };
  });
}

import { CrmError, isCrmError } from '@crmkit/core';
import { LIMITS, PROTOCOL, type Command, type PushResponse } from '../protocol/messages.js';
import { ackThrough, asCommand, listCommands, updateCommands, type CommandRow } from './command-log.js';
import { offline, type Device } from './device.js';
import { recordVerdicts } from './record-verdicts.js';
import { moved, renewClient, type PushedFrom } from './renew-client.js';
import { readState, writeState } from './sync-state.js';

/** `expected` of a push refused with `sequence_gap` (409), `seq` of one refused with `sequence_reused` (409). */
const issueOf = (error: { code: string; details?: unknown }, code: string, key: 'expected' | 'seq'): number | undefined =>
  error.code === 'VALIDATION' ? ((error.details as { issues?: (Record<string, unknown> & { code: string })[] }).issues?.find((i) => i.code === code)?.[key] as number | undefined) : undefined;

/** At most this many new client ids per push cycle: a server that refuses every sequence gets its error reported. */
const RENEWALS = 2;

/** Bytes of JSON a push carries at most by default: half the server's default body limit (1 MiB). */
const PUSH_BYTES = 512 * 1024;
const encoder = new TextEncoder();

/** The first pending commands to push: at most `most`, within `PUSH_BYTES` of JSON (at least one). */
function batchOf(commands: readonly CommandRow[], most: number): Command[] {
  const batch: Command[] = [];
  let bytes = 0;
  for (const row of commands.slice(0, most)) {
    const command = asCommand(row);
    bytes += encoder.encode(JSON.stringify(command)).byteLength;
    if (batch.length && bytes > PUSH_BYTES) break;
    batch.push(command);
  }
  return batch;
}

/** Marks `row` `tooLarge` (its JSON's bytes) unless another tab changed it since; `false` when none was marked. */
function markTooLarge(device: Device, row: CommandRow): Promise<boolean> {
  const bytes = encoder.encode(JSON.stringify(asCommand(row))).byteLength;
  return device.serial(() => device.replica.transaction('apply', async (tx) => {
    const [now] = (await tx.getMany('syncCommand', device.tenant, [row.id])) as (CommandRow | undefined)[];
    if (now?.status !== 'pending' || now.tooLarge) return now !== undefined;
    await updateCommands(tx, device.tenant, [now], () => ({ tooLarge: bytes }));
    return true;
  }));
}

/** A push refused whole for its size (413 `too_big`: the body, or more commands than the server takes). */
const tooBig = (error: CrmError): boolean =>
  isCrmError(error, 'VALIDATION') && (error.details as { status?: number }).status === 413 && error.details.issues.some((i) => i.code === 'too_big');

/**
 * The server lost commands it had accepted (restored from a backup): those still in the log from
 * `expected` on are pushed again. `false` when the log no longer holds `expected` (confirmed and gone),
 * `undefined` when the answer is stale (another tab pushed, resent or renewed since `pushed`).
 */
function resendFrom(device: Device, expected: number, pushed: PushedFrom): Promise<boolean | undefined> {
  return device.serial(() => device.replica.transaction('apply', async (tx) => {
    if (moved(await readState(tx, device.tenant), pushed)) return undefined;
    const accepted = (await listCommands(tx, device.tenant, ['accepted'])).filter((c) => c.seq >= expected);
    if (accepted[0]?.seq !== expected) return false;
    await updateCommands(tx, device.tenant, accepted, () => ({ status: 'pending' }));
    await writeState(tx, device.tenant, device.now(), { pushes: pushed.pushes + 1 });
    return true;
  }));
}

/**
 * Pushes every command the server has not answered, 100 and at most 512 KiB of JSON per request (design
 * sync.md §8; halved on a 413 from a server with lower limits), and stores the verdicts; a rejection rebases at once (its optimistic effect goes before the next pull).
 *
 * @throws CrmError what the server answered; `STORAGE` (`adapter: 'sync'`) when it cannot be reached; for
 *   a batch the server stopped (a failure, not a verdict), its error with `seq` and `stuck` (5 attempts).
 */
export async function pushCommands(device: Device, signal: AbortSignal): Promise<void> {
  const { replica, tenant } = device;
  let most: number = LIMITS.commands;
  let renewals = 0;
  const renew = async (from: number, why: string, error: CrmError | Error, pushed: PushedFrom): Promise<void> => {
    if (renewals >= RENEWALS) throw error;
    if (await renewClient(device, from, why, pushed)) renewals++;
  };
  for (;;) {
    const [commands, s] = await replica.transaction('apply', async (tx) => [await listCommands(tx, tenant, ['pending']), (await readState(tx, tenant))!] as const);
    if (!commands.length) return;
    const through = ackThrough(s.verdictsThrough, commands);
    const ack = through > 0 ? { ackRejectedThrough: through } : {};
    const batch = batchOf(commands, most);
    const pushed = { clientId: s.clientId, pushes: s.pushes ?? 0 };
    let response: PushResponse;
    try {
      response = await device.transport.push({ protocol: PROTOCOL, clientId: s.clientId, commands: batch, ...ack, ...(s.since ? { since: s.since } : {}) }, signal);
    } catch (error) {
      if (!isCrmError(error)) throw offline('sync.push', error);
      const expected = issueOf(error, 'sequence_gap', 'expected');
      if (expected !== undefined) {
        // Another tab's push, resend or renewal came between (the error is stale): read the log again.
        if ((await resendFrom(device, expected, pushed)) !== false) continue;
        await renew(expected, `The sync server no longer has this device's commands from seq ${expected} on, which it had accepted (restored from a backup?); those the device no longer holds are lost.`, error, pushed);
        continue;
      }
      const reused = issueOf(error, 'sequence_reused', 'seq');
      if (reused !== undefined) {
        // The commands before it are the server's (retries): their verdicts first, then a new client id from it.
        if (reused > batch[0]!.seq) most = reused - batch[0]!.seq;
        else await renew(reused, `The sync server applied other commands under this device's seqs from ${reused} on (its database was restored or copied).`, error, pushed);
        continue;
      }
      // Over the server's body or batch limit (it may have lowered them): halve the batch, down to one command.
      if (tooBig(error) && batch.length > 1) {
        most = Math.ceil(batch.length / 2);
        continue;
      }
      // One command alone over the limit: sent without its args from now on, the server rejects it (`too_large`) and the queue goes on.
      if (tooBig(error) && !commands[0]!.tooLarge && (await markTooLarge(device, commands[0]!))) continue;
      throw error;
    }
    const [rejected, current] = await device.serial(() => replica.transaction('apply', async (tx) => {
      const newly = await recordVerdicts(tx, tenant, response.results);
      const through = response.results.at(-1)?.seq;
      const now = (await readState(tx, tenant))!;
      const pushes = (now.pushes ?? 0) + 1;
      await writeState(tx, tenant, device.now(), { verdictsThrough: Math.max(now.verdictsThrough, through ?? 0), pushes });
      if (response.stopped) {
        const [row] = (await tx.getMany('syncCommand', tenant, [`c${response.stopped.seq}`])) as (CommandRow | undefined)[];
        if (row) await updateCommands(tx, tenant, [row], (r) => ({ attempts: (r.attempts ?? 0) + 1 }));
      }
      // Whether no other tab came between this push and its answer (else a `sequence_reused` in it is stale).
      return [newly, moved(now, pushed) ? undefined : { ...pushed, pushes }] as const;
    }));
    if (rejected.length) await device.rebase({ confirmedThrough: 0, rejected: [] });
    const reusedAt = response.stopped && issueOf(response.stopped.error, 'sequence_reused', 'seq');
    if (reusedAt) {
      if (current) await renew(reusedAt, `The sync server applied other commands under this device's seqs from ${reusedAt} on (its database was restored or copied).`, new CrmError('VALIDATION', response.stopped!.error.message, response.stopped!.error.details as never), current);
      continue;
    }
    if (response.stopped) {
      const { error, seq } = response.stopped;
      const attempts = commands.find((c) => c.seq === seq)?.attempts ?? 0;
      throw Object.assign(new CrmError(error.code, error.message, error.details as never), { seq, stuck: attempts + 1 >= 5 });
    }
  }
}

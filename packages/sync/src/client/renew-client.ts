import { newClientId } from '../protocol/command-ids.js';
import { COMMANDS } from '../protocol/commands.js';
import { predecessorConflict, type CrmErrorJson } from '../protocol/errors.js';
import { listCommands, recordCommand, updateCommands, type CommandRow } from './command-log.js';
import type { Device } from './device.js';
import { readState, writeState, type SyncState } from './sync-state.js';

/** What a push was built from: an answer to it may be acted on only while no other push, resend or renewal came between. */
export interface PushedFrom {
  readonly clientId: string;
  /** The state's `pushes` when the batch was read. */
  readonly pushes: number;
}

/** Whether another push, resend or renewal came since `pushed` was read (`state`: the stored one now). */
export const moved = (state: SyncState | undefined, pushed: PushedFrom): boolean => state?.clientId !== pushed.clientId || (state.pushes ?? 0) !== pushed.pushes;

/**
 * The server's verdict on `row` when a command its `after` names was rejected (`rejected`): `CONFLICT`
 * `predecessorRejected`; its replay's own such verdict when that command was dismissed since.
 */
function refusal(row: CommandRow, rejected: ReadonlySet<number>): CrmErrorJson | undefined {
  const seq = row.after?.find((s) => rejected.has(s));
  if (seq !== undefined) {
    const expected = (row.args[1] as { version?: number } | undefined)?.version ?? null;
    return predecessorConflict(row.name, seq, COMMANDS[row.name].target!, row.args[0] as string, expected, null).toJSON();
  }
  const local = row.localError;
  return local?.code === 'CONFLICT' && (local.details as { reason?: string } | undefined)?.reason === 'predecessorRejected' ? local : undefined;
}

/**
 * The server cannot continue this device's command sequence (design sync.md §6): it lost commands the
 * device no longer holds (`sequence_gap` below the log: a server restored from a backup, review13 R11) or
 * its seqs are another command's (`sequence_reused`: the device's database was restored or copied, R4).
 * In one transaction the device takes a new client id: standing commands before `from` are the server's
 * (they leave the log; the reset pull brings their effects), those from `from` on get new seqs after
 * every seq the log used (the new client's `since`), pending again; the pull restarts with a reset
 * (the device's data goes back to what the server has). Then a rebase replays the renumbered commands.
 * A command whose `after` names a rejected command is rejected here with the server's verdict (`CONFLICT`
 * `predecessorRejected`): the new client id has no rejections to check it against (review13b, R3 ∩ renewal).
 * Logged as a warning with `why`, and kept in the state for `status().renewed` (a UI tells the user).
 * Nothing is renewed (`false`) when the answer is stale: another tab pushed, resent or renewed since the
 * push was read (`from.pushes`, review13b B1) or the client id is no longer `from.clientId`.
 */
export async function renewClient(device: Device, from: number, why: string, pushed: PushedFrom): Promise<boolean> {
  const { replica, tenant, ctx } = device;
  const renewed = await device.serial(() => replica.transaction('apply', async (tx) => {
    // An answer to a push built before another tab stored its verdicts, resent or renewed: the log moved on, nothing to renew.
    const state = await readState(tx, tenant);
    if (moved(state, pushed)) return undefined;
    const commands = await listCommands(tx, tenant);
    const rejected = new Set(commands.filter((c) => c.status === 'rejected').map((c) => c.seq));
    const standing = commands.filter((c) => c.status !== 'rejected');
    const refused = new Map<CommandRow, CrmErrorJson>();
    for (const row of standing) {
      const error = row.seq >= from ? refusal(row, rejected) : undefined;
      if (!error) continue;
      refused.set(row, error);
      rejected.add(row.seq);
    }
    const kept = standing.filter((c) => c.seq >= from && !refused.has(c));
    // The new client's first seq: the first renumbered command's, else the next command's.
    const reserved = await tx.nextSequence('syncCommand', tenant, Math.max(1, kept.length));
    const first = kept.length ? reserved : reserved + 1;
    const seqOf = new Map(kept.map((c, i) => [c.seq, first + i]));
    await updateCommands(tx, tenant, standing, (row) => (refused.has(row) ? { status: 'rejected', error: refused.get(row)! } : null));
    for (const row of kept) {
      const { id: _id, tenantId: _t, version: _v, attempts: _a, after, ...rest } = row;
      // `after` names commands of the old client: those renumbered with it keep their meaning; the others applied (a rejected one refused the command above).
      const renamed = (after ?? []).flatMap((seq) => (seqOf.has(seq) ? [seqOf.get(seq)!] : []));
      await recordCommand(tx, tenant, { ...(rest as Omit<CommandRow, 'id' | 'tenantId' | 'version' | 'attempts' | 'after'>), seq: seqOf.get(row.seq)!, status: 'pending', ...(renamed.length ? { after: renamed } : {}) });
    }
    const next = newClientId(ctx.random);
    const message = `${why} The device continues as sync client ${next}: its unconfirmed commands are pushed again and its data is downloaded again.`;
    await writeState(tx, tenant, device.now(), { clientId: next, since: first, checkpoint: null, pushes: pushed.pushes + 1, renewed: { at: device.now(), clientId: next, message } });
    return [next, message] as const;
  }));
  if (!renewed) return false;
  ctx.logger.warn(`crmkit sync: ${renewed[1]}`, { clientId: renewed[0], from });
  await device.rebase({ confirmedThrough: 0, rejected: [] });
  return true;
}

import { newClientId } from '../protocol/command-ids.js';
import { commandId, listCommands, recordCommand, updateCommands, type CommandRow } from './command-log.js';
import type { Device } from './device.js';
import { readState, writeState } from './sync-state.js';

/**
 * The server cannot continue this device's command sequence (design sync.md §6): it lost commands the
 * device no longer holds (`sequence_gap` below the log: a server restored from a backup, review13 R11) or
 * its seqs are another command's (`sequence_reused`: the device's database was restored or copied, R4).
 * In one transaction the device takes a new client id: standing commands before `from` are the server's
 * (they leave the log; the reset pull brings their effects), those from `from` on get new seqs after
 * every seq the log used (the new client's `since`), pending again; the pull restarts with a reset
 * (the device's data goes back to what the server has). Then a rebase replays the renumbered commands.
 * Logged as a warning with `why`, and kept in the state for `status().renewed` (a UI tells the user).
 * Nothing is renewed (`false`) when the answer is stale: the state's client id is no longer `stale.clientId`,
 * or (`stale.pending`) the command at `from` is no longer pending — another tab stored its verdict.
 */
export async function renewClient(device: Device, from: number, why: string, stale: { clientId: string; pending?: boolean }): Promise<boolean> {
  const { replica, tenant, ctx } = device;
  const renewed = await device.serial(() => replica.transaction('apply', async (tx) => {
    // An answer to a push built before another tab stored its verdicts or renewed (review13b B1): the log moved on, nothing to renew.
    if ((await readState(tx, tenant))?.clientId !== stale.clientId) return undefined;
    if (stale.pending && ((await tx.getMany('syncCommand', tenant, [commandId(from)]))[0] as CommandRow | undefined)?.status !== 'pending') return undefined;
    const standing = await listCommands(tx, tenant, ['pending', 'accepted']);
    const kept = standing.filter((c) => c.seq >= from);
    // The new client's first seq: the first renumbered command's, else the next command's.
    const reserved = await tx.nextSequence('syncCommand', tenant, Math.max(1, kept.length));
    const first = kept.length ? reserved : reserved + 1;
    const seqOf = new Map(kept.map((c, i) => [c.seq, first + i]));
    await updateCommands(tx, tenant, standing, () => null);
    for (const row of kept) {
      const { id: _id, tenantId: _t, version: _v, attempts: _a, after, ...rest } = row;
      // `after` names commands of the old client: only those renumbered with it mean anything to the new one.
      const renamed = (after ?? []).flatMap((seq) => (seqOf.has(seq) ? [seqOf.get(seq)!] : []));
      await recordCommand(tx, tenant, { ...(rest as Omit<CommandRow, 'id' | 'tenantId' | 'version' | 'attempts' | 'after'>), seq: seqOf.get(row.seq)!, status: 'pending', ...(renamed.length ? { after: renamed } : {}) });
    }
    const next = newClientId(ctx.random);
    const message = `${why} The device continues as sync client ${next}: its unconfirmed commands are pushed again and its data is downloaded again.`;
    await writeState(tx, tenant, device.now(), { clientId: next, since: first, checkpoint: null, renewed: { at: device.now(), clientId: next, message } });
    return [next, message] as const;
  }));
  if (!renewed) return false;
  ctx.logger.warn(`crmkit sync: ${renewed[1]}`, { clientId: renewed[0], from });
  await device.rebase({ confirmedThrough: 0, rejected: [] });
  return true;
}

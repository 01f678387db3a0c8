import type { Row, StorageTx } from '@crmkit/core/storage';
import type { Rejection } from '../protocol/messages.js';
import { listCommands, updateCommands, type CommandRow } from './command-log.js';
import { localErrorOf, type DeferReason } from './defer-command.js';
import { shownVersion, type ReplicaControl, type ShadowRow } from './replica-storage.js';
import { readState, writeState } from './sync-state.js';

/** What the server said about the device's commands: `lastSeq` of a pull's snapshot (its effects are in the base) and rejections. */
export interface Verdicts {
  /** Commands at or below it, not rejected, are in the pulled base: dropped from the log. 0 after a push (nothing confirmed yet). */
  readonly confirmedThrough: number;
  readonly rejected: readonly Rejection[];
}

/** Restores every shadow's base row into the live store and deletes the shadows (deletes first, then inserts). */
async function restoreShadows(tx: StorageTx, tenantId: string): Promise<void> {
  const shadows = (await tx.query('syncShadow', tenantId, {})).rows as ShadowRow[];
  if (!shadows.length) return;
  const byEntity = new Map<string, ShadowRow[]>();
  for (const s of shadows) {
    const list = byEntity.get(s.entity);
    if (list) list.push(s);
    else byEntity.set(s.entity, [s]);
  }
  const inserts: [string, Row][] = [];
  const retired: [string, number, number][] = [];
  for (const [entity, list] of byEntity) {
    const live = await tx.getMany(entity, tenantId, list.map((s) => s.recordId));
    // The live rows' versions were predictions resting on the shadow's base: remember them (review13e E1).
    list.forEach((s, i) => {
      const base = shownVersion(s);
      if (live[i] && live[i].version > base) retired.push([s.id, base, live[i].version]);
    });
    const deletes = list.filter((_, i) => live[i]).map((s) => ({ type: 'delete' as const, id: s.recordId }));
    if (deletes.length) await tx.write(entity, tenantId, deletes);
    for (const s of list) if (s.row) inserts.push([entity, s.row]);
  }
  for (const [entity, row] of inserts) await tx.write(entity, tenantId, [{ type: 'insert', row }]);
  await tx.write('syncShadow', tenantId, shadows.map((s) => ({ type: 'delete' as const, id: s.id })));
  if (retired.length) await retire(tx, tenantId, retired);
}

/** Adds retired prediction ranges to the sync state: the last 4 per record, the last 256 records. */
async function retire(tx: StorageTx, tenantId: string, ranges: readonly [string, number, number][]): Promise<void> {
  const state = await readState(tx, tenantId);
  if (!state) return;
  const next: Record<string, readonly (readonly [number, number])[]> = { ...state.retired };
  for (const [key, base, upTo] of ranges) {
    const list = [...(next[key] ?? []), [base, upTo] as const].slice(-4);
    delete next[key];
    next[key] = list;
  }
  const keys = Object.keys(next);
  for (const key of keys.slice(0, Math.max(0, keys.length - 256))) delete next[key];
  await writeState(tx, tenantId, new Date().toISOString(), { retired: next });
}

/**
 * The first step of a rebase (design sync.md §8, R1), in one transaction: the live store goes back
 * to the base (shadows restored), confirmed commands leave the log, rejected ones get their verdict
 * (never replayed), every other command is marked for replay (`applied: false`).
 *
 * @returns The commands to replay, in seq order.
 */
export async function resetToBase(tx: StorageTx, tenantId: string, verdicts: Verdicts): Promise<CommandRow[]> {
  await restoreShadows(tx, tenantId);
  const rejected = new Map(verdicts.rejected.map((r) => [r.seq, r.error]));
  const commands = await listCommands(tx, tenantId);
  await updateCommands(tx, tenantId, commands, (c) => {
    const error = rejected.get(c.seq);
    if (c.status !== 'rejected' && error) return { status: 'rejected', error, applied: false };
    if (c.status === 'rejected') return c.applied ? { applied: false } : undefined;
    if (c.seq <= verdicts.confirmedThrough) return null;
    return { applied: false };
  });
  return commands.filter((c) => c.status !== 'rejected' && !rejected.has(c.seq) && c.seq > verdicts.confirmedThrough);
}

/** Called in a command transaction after a replay failed (the command is marked `localError`): stands in for its effect; returns why it is left to the server. */
export type Refused = (tx: StorageTx, command: CommandRow, error: unknown) => Promise<DeferReason | undefined>;

/**
 * Rebases the device (design sync.md §8): back to the pulled base, then every command that still
 * stands is replayed with its own time and seed (so derived ids repeat), each in its own command
 * transaction. A replay the device's rules refuse leaves no trace (but what `refused` writes) and is
 * marked `localError` (it is pushed all the same: the server decides). Observers see one change batch at the end; replays emit
 * no events. Safe to run again after a crash at any point (commands marked `applied: false` replay).
 *
 * @param replay Runs one command in the given command transaction (throws its `CrmError` when refused).
 */
export async function rebase(
  replica: ReplicaControl,
  tenantId: string,
  verdicts: Verdicts,
  replay: (tx: StorageTx, command: CommandRow) => Promise<void>,
  refused?: Refused,
): Promise<void> {
  replica.hold();
  try {
    await replica.transaction('rebase', (tx) => resetToBase(tx, tenantId, verdicts));
    await replayPending(replica, tenantId, replay, refused);
  } finally {
    replica.release();
  }
}

/** Replays every standing command not in the live store (`applied: false`), in seq order. */
export async function replayPending(replica: ReplicaControl, tenantId: string, replay: (tx: StorageTx, command: CommandRow) => Promise<void>, refused?: Refused): Promise<void> {
  const waiting = await replica.transaction('rebase', (tx) => listCommands(tx, tenantId, ['pending', 'accepted']));
  for (const command of waiting.filter((c) => !c.applied)) {
    try {
      await replica.transaction('command', async (tx) => {
        await replay(tx, command);
        const [now] = (await tx.getMany('syncCommand', tenantId, [command.id])) as CommandRow[];
        await updateCommands(tx, tenantId, [now!], () => ({ applied: true }));
      }, () => command.seq);
    } catch (error) {
      // A failure that is no CrmError (a projected row a service cannot handle) is marked like a refusal: the server decides.
      const json = localErrorOf(command.name, error);
      await replica.transaction('command', async (tx) => {
        const deferred = await refused?.(tx, command, error);
        const [now] = (await tx.getMany('syncCommand', tenantId, [command.id])) as CommandRow[];
        await updateCommands(tx, tenantId, [now!], () => ({ applied: true, localError: json, ...(deferred ? { deferred } : {}) }));
      });
    }
  }
}

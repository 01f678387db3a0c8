import type { Row, StorageTx, WriteOp } from '@crmkit/core/storage';
import type { CommandName } from '../protocol/commands.js';
import type { CrmErrorJson } from '../protocol/errors.js';
import type { Command } from '../protocol/messages.js';
import { predecessorConflict } from '../protocol/errors.js';

/**
 * Why a command was left to the server (`execute().deferred`, `status().deferred`; design sync.md §24):
 * `hidden_field` — the device's run read a field the server hides from this user that decides the
 * outcome, or its refusal rests on one (a rule on a hidden field, a hidden required field missing);
 * `not_judged` — the device's run failed with no `CrmError` (a device fault); `awaits_record` — it names
 * a record a create left to the server makes (a call logged on the deal just created offline), which the
 * device does not hold yet. Either way the command is recorded and pushed, and the server's verdict decides.
 */
export type DeferReason = 'hidden_field' | 'not_judged' | 'awaits_record';

/**
 * A command in the device's log (entity `syncCommand`, id `c<seq>`). `pending`: the server has not
 * answered; `accepted`: applied there, kept (and replayed) until a pull's snapshot contains it;
 * `rejected`: its verdict, kept for the UI until dismissed, never replayed. `applied`: its effect is in
 * the live store; `localError`: the device's own run failed (it is pushed anyway); `deferred`: why the
 * device left it to the server (it shows the record as it was until the verdict).
 */
export interface CommandRow extends Row, Command {
  readonly status: 'pending' | 'accepted' | 'rejected';
  readonly applied: boolean;
  readonly createdAt: string;
  readonly error?: CrmErrorJson;
  readonly localError?: CrmErrorJson;
  readonly deferred?: DeferReason;
  /** Pushes that stopped at this command (a server failure, not a verdict). */
  readonly attempts?: number;
}

const ENTITY = 'syncCommand';

/** The log's id of `seq`. */
export const commandId = (seq: number): string => `c${seq}`;

/** Every logged command in seq order (optionally only those of `statuses`). */
export async function listCommands(tx: StorageTx, tenantId: string, statuses?: readonly CommandRow['status'][]): Promise<CommandRow[]> {
  const filter = statuses ? { filter: { op: 'in' as const, field: 'status', values: [...statuses] } } : {};
  return (await tx.query(ENTITY, tenantId, { ...filter, sort: [{ field: 'seq' }] })).rows as CommandRow[];
}

/** Inserts a new command. */
export function recordCommand(tx: StorageTx, tenantId: string, row: Omit<CommandRow, 'tenantId' | 'version' | 'id' | 'seq'> & { readonly seq: number }): Promise<void> {
  return tx.write(ENTITY, tenantId, [{ type: 'insert', row: { ...row, id: commandId(row.seq), tenantId, version: 1 } as CommandRow }]);
}

/** Applies `change(row)` to each row (`null`: delete; the same object: unchanged). */
export function updateCommands(tx: StorageTx, tenantId: string, rows: readonly CommandRow[], change: (row: CommandRow) => Partial<CommandRow> | null | undefined): Promise<void> {
  const ops = rows.flatMap((row): WriteOp[] => {
    const next = change(row);
    if (next === undefined) return [];
    if (next === null) return [{ type: 'delete', id: row.id, expectedVersion: row.version }];
    return [{ type: 'update', row: { ...row, ...next, version: row.version + 1 } as CommandRow, expectedVersion: row.version }];
  });
  return ops.length ? tx.write(ENTITY, tenantId, ops) : Promise.resolve();
}

/** The command as pushed (no log fields; without its args when it is `tooLarge`). */
export function asCommand(row: CommandRow): Command {
  if (row.tooLarge) return { seq: row.seq, name: row.name as CommandName, args: [], at: row.at, seed: row.seed, tooLarge: row.tooLarge };
  return { seq: row.seq, name: row.name as CommandName, args: row.args, at: row.at, seed: row.seed, ...(row.after ? { after: row.after } : {}) };
}

/**
 * The `ackRejectedThrough` to send: every verdict stored (`verdictsThrough`), except that a rejection a
 * pending command names in `after` stays on the server until that command is answered (the server
 * rejects it for it, review13 R3).
 */
export function ackThrough(verdictsThrough: number, pending: readonly CommandRow[]): number {
  return Math.min(verdictsThrough, ...pending.flatMap((c) => (c.status === 'pending' ? (c.after ?? []).map((seq) => seq - 1) : [])));
}

/**
 * `CONFLICT` when one of the commands `command.after` names was rejected (the replay of a successor
 * whose predicted version no longer means the state the user saw).
 */
export async function assertPredecessors(tx: StorageTx, tenantId: string, command: CommandRow, entity: string | undefined): Promise<void> {
  if (!command.after?.length || !entity) return;
  const rows = (await tx.getMany(ENTITY, tenantId, command.after.map(commandId))) as (CommandRow | undefined)[];
  const rejected = rows.find((r) => r?.status === 'rejected');
  if (!rejected) return;
  const id = command.args[0] as string;
  const [row] = await tx.getMany(entity, tenantId, [id]);
  throw predecessorConflict(command.name, rejected.seq, entity, id, (command.args[1] as { version?: number } | undefined)?.version ?? null, row?.version ?? null);
}

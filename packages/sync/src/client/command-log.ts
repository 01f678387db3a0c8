import type { Row, StorageTx, WriteOp } from '@crmkit/core/storage';
import type { CommandName } from '../protocol/commands.js';
import type { CrmErrorJson } from '../protocol/errors.js';
import type { Command } from '../protocol/messages.js';

/**
 * A command in the device's log (entity `syncCommand`, id `c<seq>`). `pending`: the server has not
 * answered; `accepted`: applied there, kept (and replayed) until a pull's snapshot contains it;
 * `rejected`: its verdict, kept for the UI until dismissed, never replayed. `applied`: its effect is in
 * the live store; `localError`: the device's own run failed on replay (it is pushed anyway).
 */
export interface CommandRow extends Row, Command {
  readonly status: 'pending' | 'accepted' | 'rejected';
  readonly applied: boolean;
  readonly createdAt: string;
  readonly error?: CrmErrorJson;
  readonly localError?: CrmErrorJson;
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

/** The command as pushed (no log fields). */
export function asCommand(row: CommandRow): Command {
  return { seq: row.seq, name: row.name as CommandName, args: row.args, at: row.at, seed: row.seed };
}

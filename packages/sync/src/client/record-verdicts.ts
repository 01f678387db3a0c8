import type { StorageTx } from '@crmkit/core/storage';
import type { CommandResult, Rejection } from '../protocol/messages.js';
import { commandId, updateCommands, type CommandRow } from './command-log.js';

/**
 * Stores the server's verdicts on the device's commands (from a push answer or a pull's `client`):
 * `applied` → `accepted`, `rejected` → `rejected` with the error. Repeated or late answers change
 * nothing (a command's verdict is stored once; a confirmed command has left the log).
 *
 * @returns The seqs newly rejected (their optimistic effects must go: the caller rebases).
 */
export async function recordVerdicts(tx: StorageTx, tenantId: string, results: readonly CommandResult[]): Promise<number[]> {
  if (!results.length) return [];
  const byId = new Map(results.map((r) => [commandId(r.seq), r]));
  const rows = (await tx.getMany('syncCommand', tenantId, [...byId.keys()])).filter((r): r is CommandRow => r !== undefined);
  const rejected: number[] = [];
  await updateCommands(tx, tenantId, rows, (row) => {
    const result = byId.get(row.id)!;
    if (result.status === 'rejected' && row.status !== 'rejected') {
      rejected.push(row.seq);
      return { status: 'rejected', error: result.error };
    }
    return result.status === 'applied' && row.status === 'pending' ? { status: 'accepted' } : undefined;
  });
  return rejected;
}

/** A pull's rejections as verdicts. */
export const rejectionResults = (rejected: readonly Rejection[]): CommandResult[] => rejected.map((r) => ({ seq: r.seq, status: 'rejected', error: r.error }));

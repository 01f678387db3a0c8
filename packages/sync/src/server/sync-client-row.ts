import type { Principal } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { CrmError } from '@crmkit/core';
import type { CommandResult, Rejection } from '../protocol/messages.js';
import { LIMITS } from '../protocol/messages.js';

/** A device as the server knows it (id = clientId): its user, the last command applied, verdicts of rejected ones. */
export interface SyncClientRow extends Row {
  readonly userId: string;
  readonly lastSeq: number;
  /** The business time (ms) of the last applied command: the next one is not dated before it (absent before the first). */
  readonly lastAt?: number;
  /** Rejected commands' verdicts until the device acknowledges them (at most 1 000, oldest dropped). */
  readonly rejected: readonly Rejection[];
  readonly lastSeenAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Reads a client's row; `undefined` for a device that never pushed. */
export async function readClient(tx: StorageTx, tenantId: string, clientId: string): Promise<SyncClientRow | undefined> {
  return (await tx.getMany('syncClient', tenantId, [clientId]))[0] as SyncClientRow | undefined;
}

/** @throws CrmError `FORBIDDEN` 403 (`client_owner`) when the client id belongs to another user. */
export function assertOwner(client: SyncClientRow | undefined, principal: Principal, action: string): void {
  if (client && client.userId !== principal.userId) throw new CrmError('FORBIDDEN', `This sync client belongs to another user`, { action, reason: 'client_owner' });
}

/** Writes `next` over `client` (versioned) or inserts it. */
export function writeClient(tx: StorageTx, tenantId: string, client: SyncClientRow | undefined, next: Omit<SyncClientRow, 'version' | 'tenantId'>): Promise<void> {
  const row = { ...next, tenantId, version: (client?.version ?? 0) + 1 } as SyncClientRow;
  return tx.write('syncClient', tenantId, [client ? { type: 'update', row, expectedVersion: client.version } : { type: 'insert', row }]);
}

/** The rejections kept after adding `added` and forgetting those acknowledged through `ack`. */
export function keptRejections(rejected: readonly Rejection[], ack: number | undefined, added?: Rejection): Rejection[] {
  const kept = rejected.filter((r) => ack === undefined || r.seq > ack);
  if (added) kept.push(added);
  return kept.slice(-LIMITS.rejected);
}

/**
 * The recorded verdict of a command at or below `lastSeq`: its rejection while the device has not
 * acknowledged it, else applied (a rejection acknowledged or dropped from the 1 000 kept is reported
 * applied: the device converges through its next pull either way).
 */
export function storedVerdict(client: SyncClientRow, seq: number): CommandResult {
  const rejection = client.rejected.find((r) => r.seq === seq);
  return rejection ? { seq, status: 'rejected', error: rejection.error } : { seq, status: 'applied' };
}

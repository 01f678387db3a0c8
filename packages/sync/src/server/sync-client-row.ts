import type { Principal } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { CrmError } from '@crmkit/core';
import type { CommandResult, Rejection } from '../protocol/messages.js';
import { LIMITS, type Command } from '../protocol/messages.js';
import { base64url } from '../protocol/exit-tag.js';
import { invalid } from '../protocol/errors.js';
import { withStatus } from './http.js';

/** A device as the server knows it (id = clientId): its user, the last command applied, verdicts of rejected ones. */
export interface SyncClientRow extends Row {
  readonly userId: string;
  readonly lastSeq: number;
  /** The business time (ms) of the last applied command: the next one is not dated before it (absent before the first). */
  readonly lastAt?: number;
  /** Rejected commands' verdicts until the device acknowledges them (at most 1 000, oldest dropped). */
  readonly rejected: readonly Rejection[];
  readonly lastSeenAt: string;
  /** Digests (`commandDigest`) of the last `LIMITS.commands` commands, the last one `lastSeq`'s: a retry must be the same command. */
  readonly digests?: readonly string[];
  /** The first seq the row has a digest of (rows from before digests: the first seq applied after). */
  readonly digestFrom?: number;
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

/** What identifies a command: 16 base64url characters of SHA-256 over its JSON without `seq`. */
export async function commandDigest(command: Command): Promise<string> {
  const text = JSON.stringify([command.name, command.args, command.at, command.seed, command.after ?? null]);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest)).slice(0, 16);
}

/** The row's digests after `seq` (its `lastSeq + 1`) with `digest`: the last `LIMITS.commands` kept. */
export function withDigest(client: SyncClientRow, seq: number, digest: string): Pick<SyncClientRow, 'digests' | 'digestFrom'> {
  return { digests: [...(client.digests ?? []), digest].slice(-LIMITS.commands), digestFrom: client.digestFrom ?? seq };
}

/**
 * `VALIDATION` 409 `sequence_reused` when `command` (at or below `lastSeq`) is not the command the server
 * applied under its seq — a device restored from a backup, an app profile copied to another machine — or
 * is older than the digests kept (a retry is never that old). A row without digests (older servers)
 * cannot tell: `undefined`, as for a genuine retry (review13 R4).
 */
export function reusedSeq(client: SyncClientRow, command: Command, digest: string, path: readonly (string | number)[]): CrmError<'VALIDATION'> | undefined {
  if (client.digestFrom === undefined || command.seq < client.digestFrom) return undefined;
  const digests = client.digests ?? [];
  const stored = digests[command.seq - (client.lastSeq - digests.length + 1)];
  if (stored === digest) return undefined;
  const issue = { path, code: 'sequence_reused', seq: command.seq, message: `seq ${command.seq} was another command of this client id (the device's log was restored or copied): the device must take a new client id` };
  return withStatus(invalid('sync.push', [issue]), 409);
}

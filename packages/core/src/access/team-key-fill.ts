import type { Operation } from '../crm/operation.js';
import type { Filter } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { DirectoryIndex } from './access-directory.js';
import { teamKeyOf } from './team-key.js';

type OwnedRow = RecordBase & { ownerId?: string };

/**
 * The owned deals of `rows` whose stored team key is not their owner's in `directory`. The key is a
 * hidden field (never read back), so one query asks which of them hold the right one.
 */
export async function staleTeamKeys(op: Operation, rows: readonly OwnedRow[], directory: DirectoryIndex): Promise<OwnedRow[]> {
  const owned = rows.filter((r) => r.ownerId !== undefined);
  if (!owned.length) return [];
  const owners = new Map<string, Set<string>>();
  for (const { ownerId } of owned) {
    const key = teamKeyOf(directory, ownerId!);
    if (!owners.has(key)) owners.set(key, new Set());
    owners.get(key)!.add(ownerId!);
  }
  const right: Filter[] = [...owners].map(([key, ids]) => ({ op: 'and', filters: [{ op: 'eq', field: 'scopeTeam', value: key }, { op: 'in', field: 'ownerId', values: [...ids] }] }));
  const filter: Filter = { op: 'and', filters: [{ op: 'in', field: 'id', values: owned.map((r) => r.id) }, right.length === 1 ? right[0]! : { op: 'or', filters: right }] };
  const ok = new Set((await op.query('deal', { filter, limit: owned.length })).rows.map((r) => r.id));
  return owned.filter((r) => !ok.has(r.id));
}

/**
 * Rewrites the team key of one chunk of deals (by id, after `after`, within `filter`) whose key is
 * stale; `Operation.update` stamps the key from the directory the transaction sees. Bookkeeping: the
 * version moves (the row changed), `updatedAt` and the event log do not.
 *
 * @returns The last id of the chunk (`undefined` after the last chunk) and how many deals were rewritten.
 */
export async function restampChunk(op: Operation, directory: DirectoryIndex, size: number, after: string | undefined, filter?: Filter): Promise<{ last: string | undefined; stamped: number }> {
  const from: Filter | undefined = after === undefined ? undefined : { op: 'gt', field: 'id', value: after };
  const where = from && filter ? { op: 'and' as const, filters: [from, filter] } : (from ?? filter);
  const page = await op.query<OwnedRow>('deal', { ...(where ? { filter: where } : {}), sort: [{ field: 'id' }], limit: size });
  const stale = await staleTeamKeys(op, page.rows, directory);
  for (const row of stale) await op.update('deal', row, { ...row, version: row.version + 1 });
  return { last: page.nextCursor ? page.rows[page.rows.length - 1]!.id : undefined, stamped: stale.length };
}

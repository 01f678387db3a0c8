import type { CrmContext, SettingRecord } from './context.js';
import { runRead, type Operation } from './operation.js';
import type { MergeRecord } from '../schema/merge.js';

/**
 * The setting listing the records a pending merge links that a backfill of derived fields (the
 * participants' index, search keys, access fields) moved from `version` to `version + 1` without
 * changing what they say: a merge's undo follows these moves as it follows an earlier undo's versions
 * (`sameSince`). Entries are `[id, version, entity]`; the first backfill wrote `[activityId, version]`.
 */
const INDEX_MOVED = 'participantIndexMoved';

type Move = [id: string, version: number, entity?: string];

const keyOf = ([id, , entity = 'activity']: Move): string => `${entity}:${id}`;

/**
 * `entity:id` of every record a pending merge links (its survivor, the records it re-pointed): a
 * backfill reads them once, before its pages, and records only their moves.
 */
export async function mergeLinked(ctx: CrmContext): Promise<Set<string>> {
  const linked = new Set<string>();
  let after: string | undefined;
  do {
    const page = await runRead(ctx, (op) => op.query<MergeRecord>('merge', { filter: { op: 'eq', field: 'status', value: 'merged' }, sort: [{ field: 'id' }], limit: 500, ...(after ? { after } : {}) }));
    for (const merge of page.rows) {
      linked.add(`${merge.entity}:${merge.survivorId}`);
      for (const link of merge.links) linked.add(`${link.entity}:${link.id}`);
    }
    after = page.nextCursor;
  } while (after);
  return linked;
}

/**
 * Records, in the backfill's operation, the moves (`[id, version before, entity]`) of the records
 * `linked` holds; entries of records no pending merge links any more are dropped. Read and written
 * under the row's keyed lock: a concurrent backfill's page waits and then extends the list (its own
 * records conflict as any write's).
 */
export async function recordIndexMoves(op: Operation, linked: ReadonlySet<string>, moves: readonly Move[]): Promise<void> {
  const kept = (list: readonly Move[]) => list.filter((m) => linked.has(keyOf(m)));
  if (!kept(moves).length) return;
  await op.tx.lockKeys(op.tenantId, [`setting:${INDEX_MOVED}`]);
  const [old] = await op.getMany<SettingRecord<Move[]>>('setting', [INDEX_MOVED]);
  const next = { id: INDEX_MOVED, tenantId: op.tenantId, key: INDEX_MOVED, value: kept([...(old?.value ?? []), ...moves]), version: (old?.version ?? 0) + 1, createdAt: old?.createdAt ?? op.now, updatedAt: op.now };
  await (old ? op.update('setting', old, next) : op.insert('setting', next));
}

/** `[entity:id:version, version + 1]` of each recorded move (see `sameSince`). */
export async function indexMoves(op: Operation): Promise<[string, number][]> {
  const [moved] = await op.getMany<SettingRecord<Move[]>>('setting', [INDEX_MOVED]);
  return (moved?.value ?? []).map((m) => [`${keyOf(m)}:${m[1]}`, m[1] + 1]);
}

import type { CrmContext, SettingRecord } from '../crm/context.js';
import { mergeLinked, recordIndexMoves } from '../crm/index-moves.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { withParticipantIds } from '../domain/participant-ids.js';
import { isCrmError } from '../errors/crm-error.js';
import { isRace } from '../crm/retry-concurrent.js';
import type { RecordBase } from '../schema/record.js';

/** The setting that says every activity of the tenant carries `participantContactIds`. */
export const INDEXED = 'participantIndex';

/** Attempts per page: each CONFLICT (a concurrent writer of one of its rows) re-reads it. */
const ATTEMPTS = 20;

/** Whether the tenant's activities all carry the index (a merge trusts it only then). */
export async function participantsIndexed(op: Operation): Promise<boolean> {
  return !!(await op.getMany('setting', [INDEXED]))[0];
}

/**
 * Activities without the index that list one of `contactIds` as a participant: what a merge finds
 * besides the indexed ones until the backfill's mark is set (a scan of every activity, page by page).
 */
export async function unindexedParticipations(op: Operation, contactIds: ReadonlySet<string>): Promise<RecordBase[]> {
  const out: RecordBase[] = [];
  let after: string | undefined;
  do {
    const page = await op.query<RecordBase & { participants?: { contactId?: string }[]; participantContactIds?: unknown }>('activity', { sort: [{ field: 'id' }], limit: 500, ...(after ? { after } : {}) });
    for (const row of page.rows) if (!row.participantContactIds && row.participants?.some((p) => p.contactId && contactIds.has(p.contactId))) out.push(row);
    after = page.nextCursor;
  } while (after);
  return out;
}

/**
 * Gives activities stored before `participantContactIds` existed (storage schema 10) that list, so a
 * merge finds their participants; a page per transaction, once per tenant (a setting marks it done).
 * Runs when a crm with merges starts; once done, it costs one read. Each indexed row
 * gets a new version like any write, so a concurrent read-modify-write of it conflicts instead of dropping
 * the list; a page that meets CONFLICT is read again. A pending merge's undo follows the new versions
 * (`recordIndexMoves`). Until the mark is set, a merge also scans the activities without the list.
 *
 * @returns How many activities got the list in committed pages, and whether the mark is set.
 */
export async function indexParticipants(ctx: CrmContext): Promise<{ indexed: number; done: boolean }> {
  // Without activities the mark is set at once (every activity written from now on carries the list).
  if (await runRead(ctx, participantsIndexed)) return { indexed: 0, done: true };
  // Activities a pending merge links: their undo compares versions.
  const linked = await mergeLinked(ctx);
  let indexed = 0;
  let after: string | undefined;
  do {
    for (let attempt = 1; ; attempt++) {
      try {
        const page = await runWrite(ctx, async (op) => {
          const page = await op.query<RecordBase>('activity', { sort: [{ field: 'id' }], limit: 500, ...(after ? { after } : {}) });
          const moved: [string, number][] = [];
          let count = 0;
          for (const row of page.rows) {
            const next = withParticipantIds(row);
            if (next === row) continue;
            count++;
            await op.update('activity', row, { ...next, version: row.version + 1 });
            moved.push([row.id, row.version]);
          }
          await recordIndexMoves(op, linked, moved);
          return { count, nextCursor: page.nextCursor };
        });
        indexed += page.count;
        after = page.nextCursor;
        break;
      } catch (error) {
        if (!isCrmError(error, 'CONFLICT')) throw error;
        // A race `runWrite` already ran again within its bound: the next start tries.
        if (attempt >= ATTEMPTS || isRace(error)) return { indexed, done: false };
      }
    }
  } while (after);
  try {
    await runWrite(ctx, (op) => op.insert<SettingRecord<true>>('setting', { id: INDEXED, tenantId: op.tenantId, key: INDEXED, value: true, version: 1, createdAt: op.now, updatedAt: op.now }));
  } catch (error) {
    // Another start set the mark first.
    if (!isCrmError(error, 'CONFLICT')) throw error;
  }
  return { indexed, done: true };
}

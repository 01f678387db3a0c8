import type { CrmContext, SettingRecord } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { withParticipantIds } from '../domain/participant-ids.js';
import { isCrmError } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';

/** The setting that says every activity of the tenant carries `participantContactIds`. */
const INDEXED = 'participantIndex';
const PAGE = 500;

/**
 * Gives activities stored before `participantContactIds` existed (storage schema 10) that list, so a
 * merge finds their participants; a page per transaction, once per tenant (a setting marks it done).
 * Runs when a crm with merges starts; done or with no activities, it costs one read. The list is an
 * index, not a change: rows keep their version (a merge's undo compares versions). A concurrent
 * writer of a row wins; the page is read again.
 *
 * @returns How many activities got the list.
 */
export async function indexParticipants(ctx: CrmContext): Promise<number> {
  const pending = await runRead(ctx, async (op) => !(await op.getMany('setting', [INDEXED]))[0] && (await op.query('activity', { limit: 1 })).rows.length > 0);
  if (!pending) return 0;
  let total = 0;
  let after: string | undefined;
  for (let conflicts = 0; ; ) {
    let page: { changed: number; next?: string };
    try {
      page = await runWrite(ctx, async (op) => {
        const { rows, nextCursor } = await op.query<RecordBase>('activity', { sort: [{ field: 'id' }], limit: PAGE, ...(after ? { after } : {}) });
        let changed = 0;
        for (const row of rows) {
          const next = withParticipantIds(row);
          if (next === row) continue;
          await op.update('activity', row, next);
          changed++;
        }
        return { changed, ...(nextCursor ? { next: nextCursor } : {}) };
      });
    } catch (error) {
      if (!isCrmError(error, 'CONFLICT') || ++conflicts > 5) throw error;
      continue;
    }
    total += page.changed;
    if (!(after = page.next)) break;
  }
  await runWrite(ctx, async (op) => {
    if ((await op.getMany('setting', [INDEXED]))[0]) return;
    const marker: SettingRecord<true> = { id: INDEXED, tenantId: op.tenantId, key: INDEXED, value: true, version: 1, createdAt: op.now, updatedAt: op.now };
    await op.insert('setting', marker);
  }).catch((error: unknown) => {
    // Another process marked it first.
    if (!isCrmError(error, 'CONFLICT')) throw error;
  });
  return total;
}

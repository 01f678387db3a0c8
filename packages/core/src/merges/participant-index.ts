import type { CrmContext, SettingRecord } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { withParticipantIds } from '../domain/participant-ids.js';
import { isCrmError } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';

/** The setting that says every activity of the tenant carries `participantContactIds`. */
const INDEXED = 'participantIndex';

/**
 * Gives activities stored before `participantContactIds` existed (storage schema 10) that list, so a
 * merge finds their participants; a page per transaction, once per tenant (a setting marks it done).
 * Runs when a crm with merges starts; done, or with no activities, it costs one read. The list is an
 * index, not a change: rows keep their version (a merge's undo compares versions). A concurrent writer
 * (another process doing the same) wins: this stops unmarked, and a later start goes on.
 *
 * @returns How many activities got the list.
 */
export async function indexParticipants(ctx: CrmContext): Promise<number> {
  if (await runRead(ctx, async (op) => !!(await op.getMany('setting', [INDEXED]))[0] || !(await op.query('activity', { limit: 1 })).rows.length)) return 0;
  let total = 0;
  let after: string | undefined;
  try {
    do {
      after = await runWrite(ctx, async (op) => {
        const page = await op.query<RecordBase>('activity', { sort: [{ field: 'id' }], limit: 500, ...(after ? { after } : {}) });
        for (const row of page.rows) {
          const next = withParticipantIds(row);
          if (next === row) continue;
          total++;
          await op.update('activity', row, next);
        }
        return page.nextCursor;
      });
    } while (after);
    await runWrite(ctx, (op) => op.insert<SettingRecord<true>>('setting', { id: INDEXED, tenantId: op.tenantId, key: INDEXED, value: true, version: 1, createdAt: op.now, updatedAt: op.now }));
  } catch (error) {
    if (!isCrmError(error, 'CONFLICT')) throw error;
  }
  return total;
}

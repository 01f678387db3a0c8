import type { CrmContext } from '../crm/context.js';
import { mergeLinked, recordIndexMoves } from '../crm/index-moves.js';
import { runWrite } from '../crm/operation.js';
import { duplicateKeys, type DuplicateProbe } from '../domain/duplicates.js';
import { reviseRecord } from '../domain/records.js';
import { deepEqual } from '../domain/draft.js';
import type { RecordBase } from '../schema/record.js';
import { identityOptions } from './identity-cache.js';

/** What a reindex changed, per entity: records whose search keys were rewritten. */
export interface ReindexReport {
  readonly lead: number;
  readonly contact: number;
  readonly company: number;
}

/**
 * Recomputes the search keys of every lead, contact and company with the tenant's identity options,
 * a page per transaction; records whose keys did not change are not written. A rewritten record gets
 * a new version like any write (a concurrent read-modify-write of it conflicts); a pending merge's undo
 * follows that move (`recordIndexMoves`), as it follows the participants' backfill.
 */
export async function reindexSearchKeys(ctx: CrmContext, pageSize: number): Promise<ReindexReport> {
  const report = { lead: 0, contact: 0, company: 0 };
  const linked = await mergeLinked(ctx);
  for (const entity of ['lead', 'contact', 'company'] as const) {
    let after: string | undefined;
    do {
      const page = await runWrite(ctx, async (op) => {
        const identity = await identityOptions(op);
        const page = await op.query<RecordBase & { searchKeys: readonly string[] }>(entity, { sort: [{ field: 'id' }], limit: pageSize, ...(after ? { after } : {}) });
        let updated = 0; // counted per run of the transaction (`runWrite` may run it again)
        const moved: [string, number, string][] = [];
        for (const record of page.rows) {
          const keys = duplicateKeys(record as DuplicateProbe, entity === 'company' ? 'company' : 'person', identity);
          if (deepEqual(keys, record.searchKeys)) continue;
          await op.update(entity, record, reviseRecord(record, op.now, (d) => void (d.searchKeys = keys)));
          moved.push([record.id, record.version, entity]);
          updated++;
        }
        await recordIndexMoves(op, linked, moved);
        return { updated, after: page.nextCursor };
      });
      report[entity] += page.updated;
      after = page.after;
    } while (after);
  }
  return report;
}

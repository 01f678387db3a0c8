import type { CrmContext } from '../crm/context.js';
import { runWrite } from '../crm/operation.js';
import { duplicateKeys, type DuplicateProbe } from '../domain/duplicates.js';
import { deepEqual, reviseRecord } from '../domain/records.js';
import type { RecordBase } from '../schema/record.js';
import { findDuplicates, type DuplicateCandidate, type FindDuplicatesOptions } from './duplicate-search.js';

/** What `crm.duplicates.reindex()` changed, per entity: records whose search keys were rewritten. */
export interface ReindexReport {
  readonly lead: number;
  readonly contact: number;
  readonly company: number;
}

const PAGE = 500;

/**
 * Duplicate detection: finds leads, contacts and companies that look like the same client, by
 * normalised e-mail, phone, company domain and fuzzy name similarity. `crm.duplicates`.
 */
export class DuplicatesService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Finds records that look like the same client as a lead (by id) or a probe. Every record sharing
   * a search key is scored; returns every candidate scoring at least `minScore` (or the best `limit`),
   * ranked by score (0–1), with the evidence.
   *
   * @param target A lead id, or contact data to compare (`name`, `email`, `phone`, `companyName`, `website`, `domain`).
   * @param options Where to look (`entities`), `minScore` (default 0.5), `limit` (only the best 1–1000; default: all).
   * @returns The candidates, best first.
   * @throws CrmError `VALIDATION` for an empty probe or bad options; `NOT_FOUND` for an unknown lead id.
   * @example
   * const dupes = await crm.duplicates.find({ email: 'J.Doe+shop@gmail.com', name: 'Jon Doe' });
   */
  async find(target: string | DuplicateProbe, options: FindDuplicatesOptions = {}): Promise<DuplicateCandidate[]> {
    return findDuplicates(this.ctx, target, options);
  }

  /**
   * Rewrites the search keys of every lead, contact and company (a page per transaction). Run it
   * once after adding the feature to a crm with data: records written without it have no keys, so
   * `find` and the company match of lead conversion cannot see them.
   *
   * @returns How many records of each entity got new keys.
   * @example
   * const { lead, contact, company } = await crm.duplicates.reindex();
   */
  async reindex(): Promise<ReindexReport> {
    const report = { lead: 0, contact: 0, company: 0 };
    for (const entity of ['lead', 'contact', 'company'] as const) {
      let after: string | undefined;
      do {
        after = await runWrite(this.ctx, async (op) => {
          const page = await op.query<RecordBase & { searchKeys: readonly string[] }>(entity, { sort: [{ field: 'id' }], limit: PAGE, ...(after ? { after } : {}) });
          for (const record of page.rows) {
            const keys = duplicateKeys(record as DuplicateProbe, entity === 'company' ? 'company' : 'person');
            if (deepEqual(keys, record.searchKeys)) continue;
            await op.update(entity, record, reviseRecord(record, op.now, (d) => void (d.searchKeys = keys)));
            report[entity]++;
          }
          return page.nextCursor;
        });
      } while (after);
    }
    return report;
  }
}

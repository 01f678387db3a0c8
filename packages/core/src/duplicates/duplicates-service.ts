import type { CrmContext } from '../crm/context.js';
import type { DuplicateProbe } from '../domain/duplicates.js';
import { reindexSearchKeys, type ReindexReport } from './reindex.js';
import { findDuplicates, type DuplicateCandidate, type FindDuplicatesOptions } from './duplicate-search.js';


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
    return reindexSearchKeys(this.ctx, PAGE);
  }
}

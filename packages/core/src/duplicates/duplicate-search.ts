import * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import { duplicateKeys, scoreDuplicate, type DuplicateProbe, type DuplicateReason } from '../domain/duplicates.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { Lead } from '../schema/lead.js';
import type { CrmContext } from '../crm/context.js';
import { identityOptions } from './identity-cache.js';
import { runRead, type Operation } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import { countrySchema, LIMITS, optionalText, int } from '../schema/primitives.js';

/** A record that may be the same client, with the evidence. */
export type DuplicateCandidate =
  | { readonly entity: 'lead'; readonly record: Lead; readonly score: number; readonly reasons: readonly DuplicateReason[] }
  | { readonly entity: 'contact'; readonly record: Contact; readonly score: number; readonly reasons: readonly DuplicateReason[] }
  | { readonly entity: 'company'; readonly record: Company; readonly score: number; readonly reasons: readonly DuplicateReason[] };

export interface FindDuplicatesOptions {
  /** Where to look (default: leads, contacts and companies). */
  readonly entities?: readonly ('lead' | 'contact' | 'company')[];
  /** Minimum score, 0–1 (default 0.5). */
  readonly minScore?: number;
  /** Only the best `limit` candidates (1–1000). Without it, every candidate scoring at least `minScore`. */
  readonly limit?: number;
  /**
   * ISO 3166 alpha-2 region to read phone numbers written without a country code in, for this call
   * (default: the probe's `country`, else the tenant's default region, `crm.identity`).
   */
  readonly region?: string;
}

const text = optionalText(254);
const probeSchema = z
  .strictObject({ name: text, email: text, phone: text, companyName: text, website: text, domain: text, country: z.optional(countrySchema) })
  .check(z.refine((p) => Object.values(p).some((v) => v && v.trim()), 'give at least one of name, email, phone, companyName, website, domain'));

const optionsSchema = z.strictObject({
  entities: z.optional(z.array(z.enum(['lead', 'contact', 'company'])).check(z.minLength(1))),
  minScore: z.optional(z.number().check(z.gte(0), z.lte(1))),
  limit: z.optional(z.number().check(int(), z.gte(1), z.lte(LIMITS.listLimit))),
  region: z.optional(countrySchema),
});

/** Candidates are read through the `searchKeys` index a page at a time; every page is scored. */
const CANDIDATE_PAGE = 500;

export async function findDuplicates(
  ctx: CrmContext,
  target: string | DuplicateProbe,
  options: FindDuplicatesOptions,
): Promise<DuplicateCandidate[]> {
  const opts = parseInput(optionsSchema, options, 'duplicates.find');
  if (typeof target !== 'string') parseInput(probeSchema, target, 'duplicates.find');
  else if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(target)) {
    throw validationError('duplicates.find', [{ path: ['target'], code: 'invalid_format', message: 'must be a lead id or a probe object' }]);
  }
  return runRead(ctx, (op) => findDuplicatesIn(op, target, opts));
}

/**
 * `findDuplicates` inside an operation (options already checked): reads through `op`, so it sees
 * the operation's own writes (an import finds the rows it created earlier in the same chunk).
 */
export async function findDuplicatesIn(op: Operation, target: string | DuplicateProbe, opts: FindDuplicatesOptions): Promise<DuplicateCandidate[]> {
  {
    let probe: DuplicateProbe;
    let selfId: string | undefined;
    if (typeof target === 'string') {
      const lead = await op.requireReadable<Lead>('lead', target);
      probe = op.guard ? op.guard.project('lead', lead) : lead;
      selfId = target;
    } else probe = target;
    const identity = await identityOptions(op);
    // The call's region reads the probe's phone (when the probe has no country); candidates keep theirs.
    if (opts.region && !probe.country) probe = { ...probe, country: opts.region };
    const keys = duplicateKeys(probe, 'person', identity);
    if (keys.length === 0) return [];
    const results: DuplicateCandidate[] = [];
    for (const entity of opts.entities ?? (['lead', 'contact', 'company'] as const)) {
      // Every record sharing a key (and readable by the principal) is scored: a common name must not push an exact e-mail match out.
      let after: string | undefined;
      do {
        const page = await op.query<Lead | Contact | Company>(entity, {
          filter: op.scoped(entity, { op: 'containsAny', field: 'searchKeys', values: keys }),
          sort: [{ field: 'id' }],
          limit: CANDIDATE_PAGE,
          ...(after ? { after } : {}),
        });
        for (const stored of page.rows) {
          if (stored.id === selfId) continue;
          // Compared on what the principal may read only: a hidden e-mail never explains a match.
          const record = op.guard ? op.guard.project(entity, stored) : stored;
          const { score, reasons } = scoreDuplicate(probe, 'person', record, entity === 'company' ? 'company' : 'person', identity);
          if (reasons.length && score >= (opts.minScore ?? 0.5)) results.push({ entity, record, score, reasons } as DuplicateCandidate);
        }
        after = page.nextCursor;
      } while (after);
    }
    results.sort((a, b) => b.score - a.score || (a.record.id < b.record.id ? -1 : 1));
    return opts.limit === undefined ? results : results.slice(0, opts.limit);
  }
}

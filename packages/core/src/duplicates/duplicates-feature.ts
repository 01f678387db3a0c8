import type { CrmFeature } from '../crm/feature.js';
import { duplicateKeys } from '../domain/duplicates.js';
import { companyDomainFromEmail } from '../domain/normalize.js';
import { matchCompany } from './company-match.js';
import { DuplicatesService } from './duplicates-service.js';

/** The duplicates feature: adds `crm.duplicates`. */
export type DuplicatesFeature = CrmFeature<'duplicates', DuplicatesService>;

/**
 * Duplicate detection as a crm feature: leads, contacts and companies get search keys (normalised
 * e-mail, phone, domain, name fragments) on every write; `crm.duplicates.find` ranks look-alikes
 * with reasons; lead conversion links the existing company with the same domain or name instead of
 * creating another. Without it, cards carry no search keys and conversion links only the company
 * you name (or creates one). Adding it to a crm with data: run `crm.duplicates.reindex()` once.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { duplicates } from '@crmkit/core/duplicates';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [duplicates()] });
 * const found = await crm.duplicates.find({ email: 'jon.smith@gmail.com', name: 'John Smith' });
 */
export function duplicates(): DuplicatesFeature {
  return {
    key: 'duplicates',
    setup: () => ({
      api: (ctx) => new DuplicatesService(ctx),
      hooks: {
        duplicates: {
          keys: (kind, card) => duplicateKeys(card, kind),
          matchCompany,
          companyDomain: (lead) => companyDomainFromEmail(lead.email),
        },
      },
    }),
  };
}

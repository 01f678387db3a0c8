import type { CrmFeature } from '../crm/feature.js';
import { duplicateKeys, type DuplicateProbe } from '../domain/duplicates.js';
import { companyDomainFromEmail } from '../domain/normalize.js';
import { matchCompany, matchContact } from './company-match.js';
import { findDuplicatesIn } from './duplicate-search.js';
import { DuplicatesService } from './duplicates-service.js';
import { identityCache, identityOptions } from './identity-cache.js';
import { IdentityService } from './identity-service.js';
import { resolveSameFilters } from './same-filter.js';

/** The duplicates feature: adds `crm.duplicates` and `crm.identity`. */
export type DuplicatesFeature = CrmFeature<'duplicates', DuplicatesService, { readonly identity: IdentityService }>;

/**
 * Duplicate detection as a crm feature: leads, contacts and companies get search keys (normalised
 * e-mail, phone, domain, name fragments) on every write; `crm.duplicates.find` ranks look-alikes
 * with reasons; lead conversion links the existing company with the same domain or name instead of
 * creating another; lead conversion reuses the contact with the same normalised e-mail or phone;
 * `where.same` finds records by identity. Keys are normalised identities: e-mail (case, IDNA, provider
 * aliases), E.164 phone (national numbers with `createCrm({ phoneNumbers })` from `@crmkit/core/phone`
 * and the tenant's default region, `crm.identity`), IDNA domain. Without it, cards carry no search keys and conversion links only the company
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
    setup(ctx) {
      const cache = identityCache(ctx);
      // Other processes and tabs change the identity settings too: drop the cache on any settings change.
      const stop = ctx.storage.onChange((batch) => batch.changes.some((c) => c.entity === 'setting') && cache.invalidate());
      return {
        api: (view) => new DuplicatesService(view),
        also: { identity: (view) => new IdentityService(view) },
        hooks: {
          duplicates: {
            identity: (op) => identityOptions(op),
            keys: (kind, card, identity) => duplicateKeys(card, kind, identity),
            matchCompany,
            matchContact,
            companyDomain: (lead) => companyDomainFromEmail(lead.email),
            resolveSame: (op, entity, where) => resolveSameFilters(op, entity, where),
            find: (op, probe, options) => findDuplicatesIn(op, probe as DuplicateProbe, options),
          },
        },
        close: async () => stop(),
      };
    },
  };
}

// Entry point of @crmkit/core/phone: phone-number identity with libphonenumber-js metadata.
// A separate entry so the metadata (about 40 kB min+gzip) is only bundled by hosts that import it.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import type { PhoneNumberParser } from '../domain/phone-numbers.js';

/**
 * A phone parser with libphonenumber-js's numbering plans ("min" metadata): reads national numbers
 * with a default region (`06 12 34 56 78` in FR → `+33612345678`) and international ones in any
 * spelling, and gives no identity to numbers that are not valid for their country.
 *
 * @example
 * import { createCrm } from '@crmkit/core';
 * import { duplicates } from '@crmkit/core/duplicates';
 * import { phoneNumbers } from '@crmkit/core/phone';
 * const crm = await createCrm({ storage, tenantId: 'acme', phoneNumbers, features: [duplicates()] });
 * await crm.identity.set({ defaultRegion: 'FR' });
 */
export const phoneNumbers: PhoneNumberParser = {
  readsNationalNumbers: true,
  toE164(text, defaultRegion) {
    try {
      const parsed = parsePhoneNumberFromString(text, defaultRegion ? { defaultCountry: defaultRegion as CountryCode } : {});
      return parsed?.isValid() ? parsed.number : undefined;
    } catch {
      // An unknown region or a malformed text has no identity.
      return undefined;
    }
  },
};

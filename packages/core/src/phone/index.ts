// Entry point of @crmkit/core/phone: phone-number identity with libphonenumber-js metadata.
// A separate entry so the metadata (about 40 kB min+gzip) is only bundled by hosts that import it.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { internationalPhoneParser, phoneText, type PhoneNumberParser } from '../domain/phone-numbers.js';

/** The valid E.164 number libphonenumber reads in `text`. */
function valid(text: string, defaultRegion?: string): string | undefined {
  const parsed = parsePhoneNumberFromString(text, defaultRegion ? { defaultCountry: defaultRegion as CountryCode } : {});
  return parsed?.isValid() ? parsed.number : undefined;
}

/**
 * A phone parser with libphonenumber-js's numbering plans ("min" metadata): reads national numbers
 * with a default region (`06 12 34 56 78` in FR → `+33612345678`, `011 33 6 …` in US → `+33612345678`)
 * and every international spelling the built-in parser reads (`+33 …`, `0033 …` in any region), and
 * gives no identity to numbers that are not valid for their country.
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
      // The built-in reading first, checked against the plans: libphonenumber reads `00` only where it is
      // the region's own international prefix (not from the US, nor with no region). Then the plans' own
      // reading of the same text (national numbers, `011` from the US).
      // Only a text a record's phone accepts (`phoneText`): libphonenumber reads past trailing letters.
      const number = phoneText(text);
      const international = internationalPhoneParser.toE164(text);
      return number && ((international && valid(international)) ?? valid(number, defaultRegion));
    } catch {
      // An unknown region or a malformed text has no identity.
      return undefined;
    }
  },
};

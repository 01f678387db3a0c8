/**
 * Turns phone number text into its E.164 identity (`+33612345678`). crmkit calls it for duplicate
 * detection, company matching and `where.same('phone', …)`; the stored text stays as entered.
 */
export interface PhoneNumberParser {
  /**
   * The E.164 form of `text`, or `undefined` when it is no valid number or its country cannot be told.
   *
   * @param text The number as a person wrote it (`06 12 34 56 78`, `+33 6 12 34 56 78`, `0033 …`).
   * @param defaultRegion ISO 3166 alpha-2 country for numbers written without a country code.
   */
  toE164(text: string, defaultRegion?: string): string | undefined;
  /** True when the parser can read national numbers with a default region (it has numbering-plan data). */
  readonly readsNationalNumbers: boolean;
}

/** Extensions (`x12`, `ext. 12`, `;ext=12`) are not part of a number's identity. */
const EXTENSION = /\s*(?:[;,]?\s*ext\.?=?|x|#)\s*\d+\s*$/i;

/**
 * The parser built into core: it needs no numbering-plan data, so it only reads numbers written with
 * their country code (`+33 6 12 34 56 78`, `0033 6 12 34 56 78`, `+33 (0)6 12 34 56 78`). A number
 * written nationally (`06 12 34 56 78`) has no identity with it, so two national numbers of different
 * countries can never match by their digits. For national numbers, pass `phoneNumbers` from
 * `@crmkit/core/phone` (libphonenumber-js metadata) to `createCrm`.
 */
export const internationalPhoneParser: PhoneNumberParser = {
  readsNationalNumbers: false,
  toE164(text) {
    const number = text.replace(EXTENSION, '').trim();
    let international: string;
    if (number.startsWith('+')) international = number.slice(1);
    else if (/^00[1-9]/.test(number.replace(/[\s().-]/g, ''))) international = number.replace(/[\s().-]/g, '').slice(2);
    else return undefined;
    // "+33 (0)6 …": the trunk 0 in brackets is not dialled from abroad.
    international = international.replace(/^([\s.-]*\d{1,3}[\s.-]*)\(0\)/, '$1');
    if (/[^\d\s().\-/]/.test(international)) return undefined;
    const digits = international.replace(/\D/g, '');
    // E.164: a country code (never starting with 0) and at most 15 digits in all.
    if (!/^[1-9]\d{6,14}$/.test(digits)) return undefined;
    return `+${digits}`;
  },
};

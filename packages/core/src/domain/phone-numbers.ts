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

/** Extensions (`x12`, `ext. 12`, `extn 12`, `extension 12`, `;ext=12`, `#12`) are not part of a number's identity. */
const EXTENSION = /[\s,;]*(?:ext(?:ension|n)?\.?\s*[:=]?|x|#)\s*\d+\s*$/i;

/**
 * The number a person wrote, as every parser reads it: NFKC (full-width digits and `＋`), every dash
 * (`‐ ‑ ‒ – — ― −`) a `-`, a `tel:` URI without its scheme and parameters, no extension, trimmed; or
 * `undefined` when what is left is not digits (of any script) with spaces, `+ ( ) . / -`. A record's `phone` accepts
 * exactly the texts this reads, so each text a parser reads (`where.same`) may be stored.
 */
export function phoneText(text: string): string | undefined {
  const number = text.normalize('NFKC').replace(/[\u2010-\u2015\u2212]/g, '-').replace(/^\s*tel:([^;]*).*/i, '$1').replace(EXTENSION, '').trim();
  return /^[+()\p{Nd}\s./-]*\p{Nd}[+()\p{Nd}\s./-]*$/u.test(number) ? number : undefined;
}

/**
 * The parser built into core: it needs no numbering-plan data, so it only reads numbers written with
 * their country code: `+33 6 12 34 56 78`, `0033 6 12 34 56 78`, `+33 (0)6 12 34 56 78`,
 * `0033 (0)6 …`, `tel:+33-6-12-34-56-78`; separators spaces, `-` and other dashes, `.`, `/`, brackets;
 * full-width digits and `＋`. A number written nationally (`06 12 34 56 78`), or with another
 * international prefix than `00` (`011` from the US), has no identity with it, so two national numbers of
 * different countries can never match by their digits. For those, pass `phoneNumbers` from
 * `@crmkit/core/phone` (libphonenumber-js metadata) to `createCrm`.
 */
export const internationalPhoneParser: PhoneNumberParser = {
  readsNationalNumbers: false,
  toE164(text) {
    const number = phoneText(text) ?? '';
    // The international prefix: `+`, or `00` as dialled from most countries (dropped before the trunk rule below sees the text).
    const international = /^\+/.test(number) ? number.slice(1) : /^00[\s.\-/(]*[1-9]/.test(number) ? number.slice(2) : undefined;
    if (international === undefined || /[^\d\s().\-/]/.test(international)) return undefined;
    // "+33 (0)6 …": the trunk 0 in brackets is not dialled from abroad.
    const digits = international.replace(/^([\s.\-/]*\d{1,3}[\s.\-/]*)\(0\)/, '$1').replace(/\D/g, '');
    // E.164: a country code (never starting with 0) and at most 15 digits in all.
    return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : undefined;
  },
};

import { foldCase, foldEmail, normalizeDomain } from '../domain/normalize.js';

/**
 * An input with its normalised fields as `crm.<entity>.create` stores them: a company's domain
 * canonical (`www.ACME.com` → `acme.com`), so an import keyed by domain finds it in any spelling.
 */
export function withNormalizedFields(entity: string, input: Record<string, unknown>): Record<string, unknown> {
  if (entity !== 'company' || typeof input.domain !== 'string') return input;
  return { ...input, domain: normalizeDomain(input.domain) ?? input.domain };
}

/**
 * How a key's values compare: e-mails as one mailbox spelling (`foldEmail`: no surrounding space, NFC,
 * no case, the domain after IDNA), domains in their canonical form, phone numbers by their E.164
 * identity; other keys as written.
 */
export interface KeyFold {
  /** `of`: the row or record holding the value (a phone number is read in its `country`). */
  fold(value: string | number, of?: Readonly<Record<string, unknown>>): string | number;
  /** The duplicate-search keys (the duplicates feature) that find a stored value written in another spelling. */
  readonly search?: { readonly kind: 'person' | 'company'; readonly field: 'email' | 'domain' | 'phone' };
}

/** A phone number's E.164 identity read in `country` (else the tenant's default region), as the duplicate finder reads it. */
export type PhoneIdentity = (phone: string, country: string | undefined) => string | undefined;

/**
 * The comparison of an import key (`undefined`: values compare as written). A phone number is read
 * by `phone` (the duplicates feature's reading: its record's country, else the tenant's default
 * region): `+1 415 555 2671` and `(415) 555-2671` in US are one key; a text with no identity (not a
 * valid number) compares as written, trimmed.
 */
export function keyFoldOf(key: string | undefined, phone?: PhoneIdentity): KeyFold | undefined {
  if (key === 'email') return { fold: (v) => (typeof v === 'string' ? foldEmail(v) : v), search: { kind: 'person', field: 'email' } };
  if (key === 'domain') return { fold: (v) => (typeof v === 'string' ? (normalizeDomain(v) ?? foldCase(v.trim())) : v), search: { kind: 'company', field: 'domain' } };
  if (key === 'phone' && phone) {
    return { fold: (v, of) => (typeof v === 'string' ? (phone(v, typeof of?.country === 'string' && of.country ? of.country : undefined) ?? v.trim()) : v), search: { kind: 'person', field: 'phone' } };
  }
  return undefined;
}

import { probePhone, type IdentityOptions } from '../domain/duplicates.js';
import { normalizeDomain } from '../domain/normalize.js';

/**
 * An input with its normalised fields as `crm.<entity>.create` stores them: a company's domain
 * canonical (`www.ACME.com` → `acme.com`), so an import keyed by domain finds it in any spelling.
 */
export function withNormalizedFields(entity: string, input: Record<string, unknown>): Record<string, unknown> {
  if (entity !== 'company' || typeof input.domain !== 'string') return input;
  return { ...input, domain: normalizeDomain(input.domain) ?? input.domain };
}

/**
 * How a key's values compare: e-mails without case or surrounding space, domains in their canonical
 * form, phone numbers by their E.164 identity; other keys as written.
 */
export interface KeyFold {
  /** `of`: the row or record holding the value (a phone number is read in its `country`). */
  fold(value: string | number, of?: Readonly<Record<string, unknown>>): string | number;
  /** The duplicate-search keys (the duplicates feature) that find a stored value written in another spelling. */
  readonly search?: { readonly kind: 'person' | 'company'; readonly field: 'email' | 'domain' | 'phone' };
}

/**
 * The comparison of an import key (`undefined`: values compare as written). A phone number is read
 * as the duplicate finder reads it (`probePhone`: its record's country, else the tenant's default
 * region, with `identity`'s parser): `+1 415 555 2671` and `(415) 555-2671` in US are one key; a
 * text with no identity (not a valid number) compares as written, trimmed.
 */
export function keyFoldOf(key: string | undefined, identity: IdentityOptions = {}): KeyFold | undefined {
  if (key === 'email') return { fold: (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), search: { kind: 'person', field: 'email' } };
  if (key === 'domain') return { fold: (v) => (typeof v === 'string' ? (normalizeDomain(v) ?? v.trim().toLowerCase()) : v), search: { kind: 'company', field: 'domain' } };
  if (key === 'phone') {
    const country = (of: Readonly<Record<string, unknown>> | undefined) => (typeof of?.country === 'string' && of.country ? of.country : undefined);
    return { fold: (v, of) => (typeof v === 'string' ? (probePhone({ phone: v, country: country(of) }, identity) ?? v.trim()) : v), search: { kind: 'person', field: 'phone' } };
  }
  return undefined;
}

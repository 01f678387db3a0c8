import { normalizeDomain } from '../domain/normalize.js';

/**
 * An input with its normalised fields as `crm.<entity>.create` stores them: a company's domain
 * canonical (`www.ACME.com` → `acme.com`), so an import keyed by domain finds it in any spelling.
 */
export function withNormalizedFields(entity: string, input: Record<string, unknown>): Record<string, unknown> {
  if (entity !== 'company' || typeof input.domain !== 'string') return input;
  return { ...input, domain: normalizeDomain(input.domain) ?? input.domain };
}

/** How a key's values compare: e-mails without case or surrounding space, domains in their canonical form; other keys as written. */
export interface KeyFold {
  fold(value: string | number): string | number;
  /** The duplicate-search keys (the duplicates feature) that find a stored value written in another spelling. */
  readonly search?: { readonly kind: 'person' | 'company'; readonly field: 'email' | 'domain' };
}

/** The comparison of an import key (`undefined`: values compare as written). */
export function keyFoldOf(key: string | undefined): KeyFold | undefined {
  if (key === 'email') return { fold: (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), search: { kind: 'person', field: 'email' } };
  if (key === 'domain') return { fold: (v) => (typeof v === 'string' ? (normalizeDomain(v) ?? v.trim().toLowerCase()) : v), search: { kind: 'company', field: 'domain' } };
  return undefined;
}

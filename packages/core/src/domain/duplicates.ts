import {
  companyDomainFromEmail,
  normalizeCompanyName,
  normalizeDomain,
  normalizeEmail,
  normalizeName,
  phoneKey,
} from './normalize.js';
import { nameSimilarity } from './similarity.js';
import type { PhoneNumberParser } from './phone-numbers.js';

/**
 * How identities are read in a tenant: the phone parser (built-in: international numbers only) and
 * the default region for numbers written without a country code. A record's own `country` takes
 * precedence over the default region for its phone number.
 */
export interface IdentityOptions {
  readonly phoneParser?: PhoneNumberParser;
  readonly defaultRegion?: string;
}

/** The E.164 identity of a probe's phone: read with its own country, else the default region. */
export function probePhone(probe: Pick<DuplicateProbe, 'phone' | 'country'>, identity: IdentityOptions = {}): string | undefined {
  return phoneKey(probe.phone, { parser: identity.phoneParser, region: probe.country ?? identity.defaultRegion });
}

/** What duplicate detection looks at, for a lead, a contact, a company or a free-form probe. */
export interface DuplicateProbe {
  readonly name?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly companyName?: string;
  /** A website or bare domain. */
  readonly website?: string;
  readonly domain?: string;
  /** ISO 3166 alpha-2: the region its phone number is read in when written without a country code. */
  readonly country?: string;
}

/** Why two records look like the same client. */
export interface DuplicateReason {
  readonly kind: 'email' | 'phone' | 'domain' | 'name' | 'companyName';
  /** How strong the evidence is, 0–1. */
  readonly weight: number;
  readonly detail: string;
}

function tokenKeys(prefix: string, normalized: string): string[] {
  return normalized
    .split(' ')
    .filter((t) => t.length >= 2)
    .map((t) => `${prefix}:${t.slice(0, 3)}`);
}

/**
 * The index keys of a record for duplicate lookup (`email:…`, `phone:…`, `domain:…`, `name:…`,
 * `cname:…`). Stored in `searchKeys` and matched with `containsAny`, so finding candidates never
 * scans a table; scoring then runs on the few candidates.
 */
export function duplicateKeys(probe: DuplicateProbe, kind: 'person' | 'company', identity: IdentityOptions = {}): string[] {
  const keys = new Set<string>();
  const email = probe.email ? normalizeEmail(probe.email) : undefined;
  if (email && kind === 'person') keys.add(`email:${email}`);
  const phone = probePhone(probe, identity);
  if (phone) keys.add(`phone:${phone}`);
  const domain = normalizeDomain(probe.domain) ?? normalizeDomain(probe.website) ?? companyDomainFromEmail(probe.email);
  if (domain) keys.add(`domain:${domain}`);
  if (kind === 'person') for (const k of tokenKeys('name', normalizeName(probe.name))) keys.add(k);
  const companyName = kind === 'company' ? probe.name : probe.companyName;
  for (const k of tokenKeys('cname', normalizeCompanyName(companyName))) keys.add(k);
  return [...keys].sort();
}

/** Combines independent pieces of evidence: 1 − Π(1 − wᵢ). */
function combine(reasons: readonly DuplicateReason[]): number {
  return 1 - reasons.reduce((acc, r) => acc * (1 - r.weight), 1);
}

/**
 * Scores how likely `candidate` is the same client as `probe`, with the reasons.
 * E-mail and phone matches are strong; fuzzy name similarity (Jaro-Winkler ≥ 0.85) counts in
 * proportion; a shared company domain is weak evidence for people, strong for companies.
 */
export function scoreDuplicate(
  probe: DuplicateProbe,
  probeKind: 'person' | 'company',
  candidate: DuplicateProbe,
  candidateKind: 'person' | 'company',
  identity: IdentityOptions = {},
): { score: number; reasons: DuplicateReason[] } {
  const reasons: DuplicateReason[] = [];
  if (probeKind === 'person' && candidateKind === 'person') {
    const a = probe.email ? normalizeEmail(probe.email) : undefined;
    const b = candidate.email ? normalizeEmail(candidate.email) : undefined;
    if (a && a === b) reasons.push({ kind: 'email', weight: 0.95, detail: `same e-mail ${a}` });
    const sim = nameSimilarity(normalizeName(probe.name), normalizeName(candidate.name));
    if (sim >= 0.85) reasons.push({ kind: 'name', weight: Number((0.6 * sim).toFixed(4)), detail: `similar name (${sim.toFixed(2)})` });
  }
  const pa = probePhone(probe, identity);
  if (pa && pa === probePhone(candidate, identity)) reasons.push({ kind: 'phone', weight: 0.85, detail: `same phone …${pa.slice(-4)}` });

  const domainOf = (p: DuplicateProbe) => normalizeDomain(p.domain) ?? normalizeDomain(p.website) ?? companyDomainFromEmail(p.email);
  const da = domainOf(probe);
  if (da && da === domainOf(candidate)) {
    const strong = probeKind === 'company' || candidateKind === 'company';
    reasons.push({ kind: 'domain', weight: strong ? 0.7 : 0.2, detail: `same domain ${da}` });
  }
  const companyA = normalizeCompanyName(probeKind === 'company' ? probe.name : probe.companyName);
  const companyB = normalizeCompanyName(candidateKind === 'company' ? candidate.name : candidate.companyName);
  if (companyA && companyB) {
    const sim = nameSimilarity(companyA, companyB);
    if (sim >= 0.88) {
      const strong = probeKind === 'company' || candidateKind === 'company';
      reasons.push({ kind: 'companyName', weight: Number(((strong ? 0.8 : 0.25) * sim).toFixed(4)), detail: `similar company name (${sim.toFixed(2)})` });
    }
  }
  return { score: Number(combine(reasons).toFixed(4)), reasons: reasons.sort((x, y) => y.weight - x.weight) };
}

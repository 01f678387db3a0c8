/**
 * Normalisation of contact data for duplicate detection and company matching. Pure functions.
 */
import { internationalPhoneParser, type PhoneNumberParser } from './phone-numbers.js';

/** Free mail providers: their domain says nothing about the company a person works for. */
export const PUBLIC_EMAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'ymail.com', 'hotmail.com',
  'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'outlook.com', 'live.com', 'live.co.uk', 'msn.com', 'aol.com',
  'icloud.com', 'me.com', 'mac.com', 'mail.com', 'gmx.de', 'gmx.net', 'gmx.com', 'web.de', 't-online.de',
  'proton.me', 'protonmail.com', 'pm.me', 'zoho.com', 'fastmail.com', 'hey.com', 'yandex.ru', 'yandex.com', 'ya.ru',
  'mail.ru', 'bk.ru', 'list.ru', 'inbox.ru', 'rambler.ru', 'ukr.net', 'qq.com', '163.com', '126.com', 'orange.fr',
  'free.fr', 'laposte.net', 'libero.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl',
]);

/** Providers that deliver `local+tag@` to `local@`. */
const PLUS_ADDRESSING = new Set([
  'gmail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'icloud.com', 'me.com', 'mac.com',
  'fastmail.com', 'proton.me', 'protonmail.com', 'pm.me', 'yandex.ru', 'yandex.com', 'ya.ru', 'zoho.com',
]);

/** Providers that ignore dots in the local part. */
const DOT_INSENSITIVE = new Set(['gmail.com']);

const DOMAIN_ALIASES: Readonly<Record<string, string>> = { 'googlemail.com': 'gmail.com', 'ya.ru': 'yandex.ru' };

/**
 * The canonical host of a domain per the WHATWG URL Standard, which applies UTS #46 (IDNA) in every
 * runtime: lower case, full-width dots folded, Unicode labels as A-labels (`Bücher.de` →
 * `xn--bcher-kva.de`). `undefined` for IP addresses, single labels and labels that are not
 * letters, digits and hyphens (at most 63 each, 253 in all).
 */
export function normalizeHost(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const raw = text.trim();
  if (!raw || /[\s/\\?#@:[\]%]/.test(raw)) return undefined;
  let host: string;
  try {
    host = new URL(`http://${raw}`).hostname;
  } catch {
    return undefined;
  }
  host = host.replace(/\.$/, '');
  if (host.length > 253 || /^\d+(\.\d+)*$/.test(host)) return undefined;
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) return undefined;
  // A top-level domain is never all digits (that would be an IPv4 address in another notation).
  if (/^\d+$/.test(labels[labels.length - 1]!)) return undefined;
  return host;
}

/**
 * Text compared without case: Unicode NFC and full case folding (lower, upper, then lower case, so
 * `ΑΣ`, `ας` and `ασ` are one spelling, and `ß`, `ẞ` and `ss` too — `ẞ` only upper-cases to `SS`
 * from its lower-case form, so folding is idempotent).
 */
export function foldCase(text: string): string {
  return text.normalize('NFC').toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}

/** An address's local part (`foldCase`), its domain as `normalizeHost` gives it, and the domain as written (none without `@`). */
function mailbox(email: string): [local: string, host?: string, written?: string] {
  const text = email.trim();
  const at = text.lastIndexOf('@');
  if (at < 0) return [foldCase(text)];
  const written = text.slice(at + 1);
  return [foldCase(text.slice(0, at)), normalizeHost(written), written];
}

/**
 * An e-mail address as one mailbox spelling, the form import keys compare (the duplicate finder's
 * `normalizeEmail` starts from it): trimmed, the local part without case (`foldCase`, in NFC), the
 * domain as `normalizeHost` gives it (else case-folded). `' Zoë@Bücher.DE'` (NFD or NFC) →
 * `'zoë@xn--bcher-kva.de'`; provider rules (dots, `+tags`, aliases) are not applied.
 */
export function foldEmail(email: string): string {
  const [local, host, written] = mailbox(email);
  return written === undefined ? local : `${local}@${host ?? foldCase(written)}`;
}

/**
 * Canonical form of an e-mail address: the local part without case (`foldCase`, Unicode NFC), the
 * domain as `normalizeHost` gives it, provider aliases folded, and — only where the provider ignores
 * them — dots and `+tags` removed. `John.Doe+crm@GoogleMail.com` → `johndoe@gmail.com`,
 * `Ada@Bücher.DE` → `ada@xn--bcher-kva.de`. `undefined` without a local part or a valid domain.
 */
export function normalizeEmail(email: string): string | undefined {
  const [folded, host] = mailbox(email);
  if (!folded || !host) return undefined;
  let local = folded;
  const domain = DOMAIN_ALIASES[host] ?? host;
  if (PLUS_ADDRESSING.has(domain)) local = local.split('+')[0]!;
  if (DOT_INSENSITIVE.has(domain)) local = local.replace(/\./g, '');
  if (!local) return undefined;
  return `${local}@${domain}`;
}

/** The domain of an e-mail address, as `normalizeHost` gives it, with provider aliases folded. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at < 0) return undefined;
  const host = normalizeHost(email.slice(at + 1));
  return host ? (DOMAIN_ALIASES[host] ?? host) : undefined;
}

/** The e-mail's domain when it names a company, i.e. is not a free mail provider. */
export function companyDomainFromEmail(email: string | undefined): string | undefined {
  if (!email) return undefined;
  const domain = emailDomain(email);
  return domain && !PUBLIC_EMAIL_DOMAINS.has(domain) ? domain : undefined;
}

/**
 * A company's domain from a website or a bare domain: scheme, path, user, port and a leading `www.`
 * dropped, then `normalizeHost`. `https://www.Acme.com/about` → `acme.com`, `bücher.de` → `xn--bcher-kva.de`.
 */
export function normalizeDomain(websiteOrDomain: string | undefined): string | undefined {
  if (!websiteOrDomain) return undefined;
  let text = websiteOrDomain.trim();
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  text = text.split(/[/?#]/)[0]!;
  text = text.replace(/^[^@]*@/, '').replace(/:\d*$/, '');
  const host = normalizeHost(text);
  return host?.replace(/^www\d*\.(?=[^.]+\.)/, '');
}

/**
 * The identity of a phone number: its E.164 form (`+33612345678`), read by `parser` with
 * `defaultRegion` for numbers written without a country code. Extensions are ignored. With the
 * built-in parser only international spellings have one, so national numbers of different countries
 * never match by their digits.
 *
 * @example
 * phoneKey('+33 6 12 34 56 78') // '+33612345678'
 * phoneKey('06 12 34 56 78', { parser: phoneNumbers, region: 'FR' }) // '+33612345678' (with @crmkit/core/phone)
 */
export function phoneKey(phone: string | undefined, options: { parser?: PhoneNumberParser; region?: string } = {}): string | undefined {
  if (!phone) return undefined;
  return (options.parser ?? internationalPhoneParser).toE164(phone, options.region);
}

/** Company legal forms ignored when comparing names ("Acme GmbH" is "Acme"). */
const LEGAL_FORMS = new Set([
  'inc', 'incorporated', 'llc', 'ltd', 'limited', 'plc', 'corp', 'corporation', 'co', 'company', 'gmbh', 'ag', 'kg',
  'sa', 'sas', 'sarl', 'srl', 'spa', 'bv', 'nv', 'oy', 'ab', 'as', 'aps', 'sl', 'kft', 'sro', 'zoo', 'ooo', 'oao', 'zao',
  'pao', 'ip', 'llp', 'lp', 'pty', 'pvt', 'the',
]);

/** Lower-case, accents removed, punctuation to spaces, whitespace collapsed: `"Zoë  O'Brien"` → `"zoe o brien"`. */
export function normalizeName(name: string | undefined): string {
  if (!name) return '';
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** A company name without legal forms: `"ACME Ltd."` → `"acme"`. */
export function normalizeCompanyName(name: string | undefined): string {
  const tokens = normalizeName(name).split(' ').filter((t) => t && !LEGAL_FORMS.has(t));
  return tokens.join(' ');
}

/**
 * Normalisation of contact data for duplicate detection and company matching. Pure functions.
 */

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
 * Canonical form of an e-mail address: lower-case, provider aliases folded, and — only where the
 * provider ignores them — dots and `+tags` removed. `John.Doe+crm@GoogleMail.com` → `johndoe@gmail.com`.
 */
export function normalizeEmail(email: string): string | undefined {
  const trimmed = email.trim().toLowerCase();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return undefined;
  let local = trimmed.slice(0, at);
  let domain = trimmed.slice(at + 1).replace(/\.$/, '');
  domain = DOMAIN_ALIASES[domain] ?? domain;
  if (PLUS_ADDRESSING.has(domain)) local = local.split('+')[0]!;
  if (DOT_INSENSITIVE.has(domain)) local = local.replace(/\./g, '');
  if (!local) return undefined;
  return `${local}@${domain}`;
}

/** The domain of an e-mail address, lower-case. */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = email.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
  return domain ? (DOMAIN_ALIASES[domain] ?? domain) : undefined;
}

/** The e-mail's domain when it names a company, i.e. is not a free mail provider. */
export function companyDomainFromEmail(email: string | undefined): string | undefined {
  if (!email) return undefined;
  const domain = emailDomain(email);
  return domain && !PUBLIC_EMAIL_DOMAINS.has(domain) ? domain : undefined;
}

/** `https://www.Acme.com/about` → `acme.com`. */
export function normalizeDomain(websiteOrDomain: string | undefined): string | undefined {
  if (!websiteOrDomain) return undefined;
  let text = websiteOrDomain.trim().toLowerCase();
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  text = text.split(/[/?#]/)[0]!;
  text = text.replace(/^[^@]*@/, '').replace(/:\d+$/, '').replace(/\.$/, '').replace(/^www\d*\./, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(text) ? text : undefined;
}

/**
 * A matching key for a phone number: its last ten digits (or all, if fewer, from seven on).
 * National and international spellings of one number share it: `8 (912) 345-67-89` and `+7 912 345 6789`,
 * `0151 1234567` and `+49 151 1234567`. Extensions are ignored.
 */
export function phoneKey(phone: string | undefined): string | undefined {
  if (!phone) return undefined;
  const withoutExtension = phone.split(/\s*(?:x|ext\.?)\s*\d/i)[0]!;
  const digits = withoutExtension.replace(/\D/g, '');
  if (digits.length < 7) return undefined;
  return digits.slice(-10);
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

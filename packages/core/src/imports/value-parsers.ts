import { toTimestamp } from '../domain/clock.js';
import { minorUnitExponent } from '../domain/iso-4217.js';
import { FIRST_INSTANT, LAST_INSTANT } from '../schema/primitives.js';

/*
 * Localised values are parsed with the symbols `Intl` states for the locale (CLDR data shipped with
 * every modern runtime): no hand-kept table of decimal marks and date orders can drift from what the
 * user's spreadsheet wrote, and a locale the runtime does not know fails loudly instead of guessing.
 */

interface NumberSymbols {
  readonly group: string;
  readonly decimal: string;
}

const numberSymbols = new Map<string, NumberSymbols>();

/** The group and decimal marks of a locale, from `Intl.NumberFormat` (`de-DE` → `.` and `,`). */
function symbolsOf(locale: string): NumberSymbols {
  let found = numberSymbols.get(locale);
  if (!found) {
    const parts = new Intl.NumberFormat(locale, { useGrouping: true }).formatToParts(1234567.5);
    found = { group: parts.find((p) => p.type === 'group')?.value ?? '', decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.' };
    numberSymbols.set(locale, found);
  }
  return found;
}

/** Bidi marks Intl puts around numbers and date separators in right-to-left locales (LRM, RLM, ALM). */
const BIDI = /[\u200e\u200f\u061c]/g;

interface Notation {
  /** The locale as written and read: Gregorian calendar, Latin digits (`ar-EG` → `ar-EG-u-ca-gregory-nu-latn`). */
  readonly tag: string;
  /** The locale's own digits and marks (Arabic-Indic, Persian, Bengali, …) as their Latin counterparts. */
  readonly native: ReadonlyMap<string, string>;
  /** Years the locale's calendar counts ahead (543 in th-TH's Buddhist era), or undefined for a calendar not read (fa-IR's Persian). */
  readonly era: number | undefined;
}

const notations = new Map<string, Notation>();

/**
 * How crmkit writes and reads a locale. Export and import must agree on the calendar and the digits, or
 * a round trip shifts years (th-TH's Buddhist era) or fails every cell (ar-EG's Arabic-Indic digits): both
 * sides use the Gregorian calendar and Latin digits, and the import also reads the locale's own digits.
 */
function notationOf(locale: string): Notation {
  let found = notations.get(locale);
  if (!found) {
    const tag = new Intl.Locale(locale, { calendar: 'gregory', numberingSystem: 'latn' }).toString();
    const own = symbolsOf(locale);
    const latn = symbolsOf(tag);
    const native = new Map([[own.group, latn.group], [own.decimal, latn.decimal]]);
    for (let d = 0; d < 10; d++) native.set(new Intl.NumberFormat(locale).format(d).replace(BIDI, ''), String(d));
    const calendar = new Intl.DateTimeFormat(locale).resolvedOptions().calendar;
    found = { tag, native, era: calendar === 'buddhist' ? 543 : calendar === 'gregory' ? 0 : undefined };
    notations.set(locale, found);
  }
  return found;
}

/** The text with bidi marks dropped and the locale's own digits and marks in Latin form. */
function latinize(text: string, notation: Notation): string {
  return Array.from(text.replace(BIDI, ''), (c) => notation.native.get(c) ?? c).join('');
}

const SPACES = /[\s\u00a0\u202f]/g;

/**
 * A localised decimal number as canonical text (`'-1234.5'`), or undefined when it is not one.
 * Group marks must sit between groups of two or three digits (so `1.5` in `de-DE` is refused, not read as 15).
 */
export function normalizeLocaleNumber(text: string, locale: string): string | undefined {
  const notation = notationOf(locale);
  const { group, decimal } = symbolsOf(notation.tag);
  let t = latinize(text, notation).trim().replace(/^\u2212/, '-');
  // Spaces group digits in French and Swiss locales (NBSP, narrow NBSP); they never carry meaning.
  const spaceGrouped = group.replace(SPACES, '') === '' ;
  t = t.replace(SPACES, spaceGrouped ? '\u0001' : '');
  const sign = t.startsWith('-') || t.startsWith('+') ? t[0]! : '';
  t = t.slice(sign.length);
  const [whole = '', fraction, extra] = t.split(decimal);
  if (extra !== undefined) return undefined;
  const groupMark = spaceGrouped ? '\u0001' : group;
  const groups = groupMark ? whole.split(groupMark) : [whole];
  if (groups.length > 1 && (!/^\d{1,3}$/.test(groups[0]!) || groups.slice(1).some((g) => !/^\d{2,3}$/.test(g)))) return undefined;
  const digits = groups.join('');
  if (!/^\d+$/.test(digits) || (fraction !== undefined && !/^\d+$/.test(fraction))) return undefined;
  return `${sign === '-' ? '-' : ''}${digits}${fraction !== undefined ? `.${fraction}` : ''}`;
}

/** A localised number (`'1.234,5'` in `de-DE` → 1234.5), or undefined. */
export function parseLocaleNumber(text: string, locale: string): number | undefined {
  const canonical = normalizeLocaleNumber(text, locale);
  if (canonical === undefined) return undefined;
  const value = Number(canonical);
  return Number.isFinite(value) ? value : undefined;
}

const symbolCache = new Map<string, readonly string[]>();

/** The locale's own symbols of a currency (`US$` in es-ES, `CHF`, `€`) as Intl writes them. */
function currencySymbols(locale: string, currency: string): readonly string[] {
  const key = `${locale} ${currency}`;
  let found = symbolCache.get(key);
  if (!found) {
    found = (['symbol', 'narrowSymbol', 'code'] as const)
      .map((currencyDisplay) => new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay }).formatToParts(1).find((p) => p.type === 'currency')?.value ?? '')
      .filter(Boolean)
      .sort((a, b) => b.length - a.length);
    symbolCache.set(key, found);
  }
  return found;
}

/**
 * A localised amount in major units as integer minor units of `currency` (ISO 4217 exponent):
 * `'1.234,56 €'` in `de-DE` for EUR → 123456. Currency symbols and the code are ignored; more
 * decimals than the currency has (`0,001` EUR) are refused, never rounded away.
 */
export function parseLocaleMoney(text: string, locale: string, currency: string): number | undefined {
  let bare = text;
  for (const symbol of [...currencySymbols(locale, currency), ...currencySymbols(notationOf(locale).tag, currency)]) bare = bare.split(symbol).join('');
  bare = bare.replace(/\p{Sc}/gu, '');
  const canonical = normalizeLocaleNumber(bare, locale);
  if (canonical === undefined) return undefined;
  const exponent = minorUnitExponent(currency);
  const negative = canonical.startsWith('-');
  const [whole, fraction = ''] = (negative ? canonical.slice(1) : canonical).split('.');
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > exponent) return undefined;
  const minor = Number(`${whole}${trimmed.padEnd(exponent, '0')}`);
  if (!Number.isSafeInteger(minor)) return undefined;
  return negative ? -minor : minor;
}

const dateOrders = new Map<string, readonly ('day' | 'month' | 'year')[]>();

/** The order of day, month and year in a locale's numeric dates, from `Intl.DateTimeFormat` (`en-US` → month, day, year). */
export function dateOrderOf(locale: string): readonly ('day' | 'month' | 'year')[] {
  let order = dateOrders.get(locale);
  if (!order) {
    const parts = new Intl.DateTimeFormat(locale, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).formatToParts(Date.UTC(2033, 10, 22));
    order = parts.filter((p) => p.type === 'day' || p.type === 'month' || p.type === 'year').map((p) => p.type as 'day' | 'month' | 'year');
    dateOrders.set(locale, order);
  }
  return order;
}

/** Midnight UTC of a day; years below 100 as written (`Date.UTC` would read 23 as 1923). */
function utcDay(year: number, month: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}

/** A valid day of UTC years 0000-9999 (what crmkit stores) as `YYYY-MM-DD`. */
function isoDate(year: number, month: number, day: number): string | undefined {
  const date = utcDay(year, month, day);
  if (year < 0 || year > 9999 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * A calendar date as `YYYY-MM-DD`: ISO 8601 always, otherwise three numbers in the locale's order
 * (`22.11.2033` in `de-DE`, `11/22/2033` in `en-US`, `22/11/2576` Buddhist era in `th-TH`), in Latin or the
 * locale's own digits. Two-digit years are refused (their century is a guess), and so are numeric dates in
 * calendars other than the Gregorian and Buddhist ones (fa-IR's Persian calendar): write YYYY-MM-DD there.
 */
export function parseLocaleDate(text: string, locale: string): string | undefined {
  const notation = notationOf(locale);
  const t = latinize(text, notation).trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (iso) return isoDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  if (notation.era === undefined) return undefined;
  const numbers = t.split(/[^\d]+/).filter(Boolean);
  if (numbers.length !== 3 || !/^\d+[^\d]+\d+[^\d]+\d+\.?$/.test(t)) return undefined;
  const parts: Record<string, number> = {};
  const order = dateOrderOf(notation.tag);
  for (let i = 0; i < 3; i++) {
    if (order[i] === 'year' && numbers[i]!.length !== 4) return undefined;
    parts[order[i]!] = Number(numbers[i]);
  }
  // Thai spreadsheets count years in the Buddhist era (2566 BE = 2023 CE): read as what the locale writes.
  return isoDate(parts.year! - notation.era, parts.month!, parts.day!);
}

/**
 * An instant as an ISO-8601 UTC timestamp: ISO 8601 with `Z` or an offset, or a date (taken as
 * midnight UTC). A local time without an offset is refused: its instant depends on a time zone the file does not state;
 * so is one outside UTC years 0000–9999 (`9999-12-31T23:30-01:00`).
 */
export function parseTimestamp(text: string, locale: string): string | undefined {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t)) {
    // NaN fails the range test too.
    const ms = Date.parse(t);
    return ms >= FIRST_INSTANT && ms <= LAST_INSTANT ? toTimestamp(ms) : undefined;
  }
  const date = parseLocaleDate(t, locale);
  return date ? `${date}T00:00:00.000Z` : undefined;
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'x', 'ja', 'oui', 'si', 'sí', 'wahr']);
const FALSE = new Set(['false', 'no', 'n', '0', 'nein', 'non', 'falsch']);

/** `yes`/`no`, `true`/`false`, `1`/`0` (and a few common translations), or undefined. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  return TRUE.has(t) ? true : FALSE.has(t) ? false : undefined;
}

/**
 * Splits a full name into first and last name: `'Lovelace, Ada'` (comma form) or `'Ada King Lovelace'`
 * (the last word is the last name). A single word is a last name.
 */
export function splitFullName(text: string): { readonly first: string; readonly last: string } {
  const t = text.trim().replace(/\s+/g, ' ');
  const comma = t.indexOf(',');
  if (comma >= 0) return { last: t.slice(0, comma).trim(), first: t.slice(comma + 1).trim() };
  const space = t.lastIndexOf(' ');
  return space < 0 ? { first: '', last: t } : { first: t.slice(0, space), last: t.slice(space + 1) };
}

/** A number in the locale's notation without grouping, in Latin digits (`1234,5` in `de-DE`): what `parseLocaleNumber` reads back. */
export function formatLocaleNumber(value: number, locale: string): string {
  const format = new Intl.NumberFormat(notationOf(locale).tag, { useGrouping: false, maximumFractionDigits: 20 });
  if (!Number.isFinite(value)) return format.format(value).replace(BIDI, '');
  // The shortest decimal that reads back as the same double (ECMAScript Number::toString), spelled out: Intl rounds
  // to 20 fraction digits (1e-25 → "0"); the locale only gives the signs and their places.
  const [mantissa, exponent = '0'] = Math.abs(value).toString().split('e');
  const [whole, fraction = ''] = mantissa!.split('.');
  const digits = whole! + fraction;
  const point = whole!.length + Number(exponent);
  const int = point <= 0 ? '0' : point >= digits.length ? digits + '0'.repeat(point - digits.length) : digits.slice(0, point);
  const frac = point <= 0 ? '0'.repeat(-point) + digits : point >= digits.length ? '' : digits.slice(point);
  return format
    .formatToParts(value < 0 ? -1.5 : 1.5)
    .map((part) => (part.type === 'integer' ? int : part.type === 'fraction' ? frac : part.type === 'decimal' && !frac ? '' : part.value))
    .join('')
    .replace(BIDI, '');
}

/** Minor units as major units in the locale's notation, in Latin digits (`123456` EUR → `1234,56` in `de-DE`). */
export function formatLocaleMoney(amount: number, currency: string, locale: string): string {
  const exponent = minorUnitExponent(currency);
  return new Intl.NumberFormat(notationOf(locale).tag, { useGrouping: false, minimumFractionDigits: exponent, maximumFractionDigits: exponent }).format(amount / 10 ** exponent).replace(BIDI, '');
}

/**
 * `YYYY-MM-DD` in the locale's numeric order and Latin digits (`2033-11-22` → `22.11.2033` in `de-DE`,
 * `22/11/2576` in th-TH's Buddhist era); as `YYYY-MM-DD` in a locale whose calendar the import does not read.
 */
export function formatLocaleDate(date: string, locale: string): string {
  const { tag, era } = notationOf(locale);
  if (era === undefined) return date.slice(0, 10);
  const [year, month, day] = date.slice(0, 10).split('-').map(Number) as [number, number, number];
  const parts = new Intl.DateTimeFormat(tag, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).formatToParts(utcDay(year, month, day));
  // Four digits always: the import refuses shorter years (their century would be a guess).
  return parts.map((p) => (p.type === 'year' ? String(year + era).padStart(4, '0') : p.value)).join('').replace(BIDI, '');
}

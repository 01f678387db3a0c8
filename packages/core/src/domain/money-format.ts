import type { Money } from '../schema/primitives.js';
import { minorUnitExponent } from './iso-4217.js';
import { readCallerInput } from '../errors/caller-input.js';

/**
 * An amount in major units as exact decimal text, with the currency's ISO 4217 decimals:
 * `{ amount: 123456, currency: 'EUR' }` → `'1234.56'`, JPY 5000 → `'5000'`, KWD 1500 → `'1.500'`.
 * Computed on digits, never through a float division.
 *
 * @param money Integer minor units and an ISO 4217 code.
 * @returns The decimal text (a leading `-` for negative amounts).
 * @example
 * toMajorUnits({ amount: -5, currency: 'EUR' }) // '-0.05'
 */
export function toMajorUnits(money: Pick<Money, 'amount' | 'currency'>): string {
  const exponent = minorUnitExponent(money.currency);
  const negative = money.amount < 0;
  const digits = String(Math.abs(Math.trunc(money.amount)));
  if (exponent === 0) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(exponent + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/**
 * Money as people read it. Without a locale: `'1234.56 EUR'` (plain, the same everywhere: report rows
 * and CSV). With a locale: the platform's currency format with the ISO 4217 decimals (`'€1,234.56'`).
 *
 * @param money Integer minor units and an ISO 4217 code.
 * @param locale A BCP 47 locale for `Intl.NumberFormat`.
 * @returns The text.
 * @throws CrmError `VALIDATION` for a locale or currency code `Intl` cannot use.
 * @example
 * formatMoney({ amount: 1500, currency: 'KWD' }) // '1.500 KWD'
 * formatMoney({ amount: 123456, currency: 'EUR' }, 'de-DE') // '1.234,56 €'
 */
export function formatMoney(money: Pick<Money, 'amount' | 'currency'>, locale?: string): string {
  // Only the caller's money and locale are read here: no money, a locale or currency Intl refuses (its RangeError says which) is their VALIDATION.
  return readCallerInput('formatMoney', () => {
    const major = toMajorUnits(money);
    if (locale === undefined) return `${major} ${money.currency}`;
    const digits = minorUnitExponent(money.currency);
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency: money.currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    // Intl formats decimal strings exactly (no float rounding); the cast covers older lib typings.
    return format.format(major as unknown as number);
  });
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLocaleDate, formatLocaleMoney, parseLocaleDate, parseLocaleMoney, parseLocaleNumber, splitFullName } from '../../src/imports/value-parsers.js';

const LOCALES = ['en-US', 'de-DE', 'fr-FR', 'de-CH', 'en-IN', 'es-ES', 'pl-PL', 'ja-JP'];

describe('localised values (Intl)', () => {
  it('reads back every number the locale writes, with or without grouping (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOCALES), fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 3 }), (locale, n, decimals) => {
        const value = n / 10 ** decimals;
        for (const useGrouping of [true, false]) {
          const text = new Intl.NumberFormat(locale, { useGrouping, maximumFractionDigits: 3 }).format(value);
          expect(parseLocaleNumber(text, locale), `${locale} ${text}`).toBe(Number(value.toFixed(3)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads back money in minor units, by the currency\'s exponent (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOCALES), fc.constantFrom('EUR', 'JPY', 'BHD', 'USD'), fc.integer({ min: -1e12, max: 1e12 }), (locale, currency, amount) => {
        expect(parseLocaleMoney(formatLocaleMoney(amount, currency, locale), locale, currency)).toBe(amount);
        const withSymbol = new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount / 10 ** ((({ JPY: 0, BHD: 3 }) as Record<string, number>)[currency] ?? 2));
        expect(parseLocaleMoney(withSymbol, locale, currency), withSymbol).toBe(amount);
      }),
      { numRuns: 200 },
    );
  });

  it('reads back every date the locale writes (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOCALES), fc.date({ min: new Date('1900-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }), (locale, date) => {
        const iso = date.toISOString().slice(0, 10);
        expect(parseLocaleDate(formatLocaleDate(iso, locale), locale)).toBe(iso);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what is ambiguous or malformed', () => {
    expect(parseLocaleNumber('1.5', 'de-DE')).toBeUndefined(); // a misplaced group mark, not 15
    expect(parseLocaleNumber('1,2,3', 'en-US')).toBeUndefined();
    expect(parseLocaleNumber('1,5', 'de-DE')).toBe(1.5);
    expect(parseLocaleNumber('12abc', 'en-US')).toBeUndefined();
    expect(parseLocaleMoney('0,001', 'de-DE', 'EUR')).toBeUndefined(); // more decimals than the euro has
    expect(parseLocaleDate('03/04/25', 'en-US')).toBeUndefined(); // two-digit year
    expect(parseLocaleDate('31.02.2024', 'de-DE')).toBeUndefined();
    expect(parseLocaleDate('03/04/2025', 'en-US')).toBe('2025-03-04');
    expect(parseLocaleDate('03/04/2025', 'en-GB')).toBe('2025-04-03');
  });

  it('splits full names', () => {
    expect(splitFullName('Ada King Lovelace')).toEqual({ first: 'Ada King', last: 'Lovelace' });
    expect(splitFullName(' Lovelace,  Ada ')).toEqual({ first: 'Ada', last: 'Lovelace' });
    expect(splitFullName('Plato')).toEqual({ first: '', last: 'Plato' });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMoney, isIsoCurrency, minorUnitExponent, toMajorUnits } from '@crmkit/core';
import { convertMinor } from '@crmkit/core/reports';

const SAMPLE = ['EUR', 'USD', 'JPY', 'KRW', 'KWD', 'BHD', 'IQD', 'TND', 'CLF', 'UYW', 'HUF', 'COP', 'IDR', 'PKR', 'IRR', 'RSD', 'ISK', 'XAU', 'VND', 'CHF'];

describe('ISO 4217 minor units', () => {
  it('come from the standard, not from Intl (which differs for HUF, COP, IDR, PKR, IQD …)', () => {
    expect(Object.fromEntries(SAMPLE.map((c) => [c, minorUnitExponent(c)]))).toEqual({
      EUR: 2, USD: 2, JPY: 0, KRW: 0, KWD: 3, BHD: 3, IQD: 3, TND: 3, CLF: 4, UYW: 4, HUF: 2, COP: 2, IDR: 2, PKR: 2, IRR: 2, RSD: 2, ISK: 0, XAU: 0, VND: 0, CHF: 2,
    });
    // The platform's display digits are not ISO's: this is why crmkit ships its own table.
    const intl = (c: string) => new Intl.NumberFormat('en', { style: 'currency', currency: c }).resolvedOptions().maximumFractionDigits;
    expect(['HUF', 'COP', 'IDR', 'PKR', 'IQD'].filter((c) => intl(c) !== minorUnitExponent(c)).length).toBeGreaterThan(0);
  });

  it('knows ISO codes and refuses others', () => {
    expect(['EUR', 'XCG', 'ZWG', 'SLE'].every(isIsoCurrency)).toBe(true);
    expect(['EURO', 'ABC', 'eur', 'BTC', ''].some(isIsoCurrency)).toBe(false);
  });
});

describe('money in major units', () => {
  it('writes the issue example as people read it', () => {
    expect([{ amount: 123_456, currency: 'EUR' }, { amount: 5000, currency: 'JPY' }, { amount: 1500, currency: 'KWD' }].map((m) => formatMoney(m))).toEqual([
      '1234.56 EUR', '5000 JPY', '1.500 KWD',
    ]);
    expect(toMajorUnits({ amount: -5, currency: 'EUR' })).toBe('-0.05');
    expect(toMajorUnits({ amount: 7, currency: 'CLF' })).toBe('0.0007');
    expect(toMajorUnits({ amount: Number.MAX_SAFE_INTEGER, currency: 'EUR' })).toBe('90071992547409.91');
    expect(formatMoney({ amount: 123_456, currency: 'EUR' }, 'de-DE')).toBe('1.234,56\u00a0€');
    expect(formatMoney({ amount: 1500, currency: 'KWD' }, 'en-US')).toBe('KWD\u00a01.500');
    expect(formatMoney({ amount: 99, currency: 'HUF' }, 'en-US')).toBe('HUF\u00a00.99');
  });

  it('is exact: reading the text back gives the integer minor units, with exactly the ISO decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(...SAMPLE), (amount, currency) => {
        const text = toMajorUnits({ amount, currency });
        const exponent = minorUnitExponent(currency);
        expect(text).toMatch(exponent === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${exponent}}$`));
        expect(BigInt(text.replace('.', ''))).toBe(BigInt(amount));
      }),
    );
  });

  it('converts between currencies with both exponents (IQD has 3 decimals, HUF 2, JPY 0)', () => {
    // 1 IQD (1000 minor units) at 0.27 HUF per IQD is 0.27 HUF = 27 minor units.
    expect(convertMinor(1000, 'IQD', { base: 'HUF', rates: { IQD: 0.27 } })).toBe(27);
    // JPY 5000 at 0.0061 EUR per yen is EUR 30.50.
    expect(convertMinor(5000, 'JPY', { base: 'EUR', rates: { JPY: 0.0061 } })).toBe(3050);
    // KWD 1.500 at 3.0 EUR per dinar is EUR 4.50.
    expect(convertMinor(1500, 'KWD', { base: 'EUR', rates: { KWD: 3 } })).toBe(450);
  });
});

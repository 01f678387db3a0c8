import { expect, it } from 'vitest';
import fc from 'fast-check';
import { formatLocaleNumber, parseLocaleNumber } from '../../src/imports/value-parsers.js';

const LOCALES = ['en-US', 'de-DE', 'fr-FR', 'de-CH', 'ar-EG', 'hi-IN', 'sv-SE'];

it('exports numbers without precision loss: the shortest round-trip decimal, read back to the same double (review 16f item 8)', () => {
  expect(formatLocaleNumber(1e-25, 'en-US')).toBe('0.0000000000000000000000001');
  expect(formatLocaleNumber(1.23456789e-15, 'de-DE')).toBe('0,00000000000000123456789');
  expect(formatLocaleNumber(-1234.5, 'de-DE')).toBe('-1234,5');
  expect(formatLocaleNumber(1e21, 'en-US')).toBe('1000000000000000000000');
  expect(formatLocaleNumber(0.1 + 0.2, 'en-US')).toBe('0.30000000000000004');
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...LOCALES), (value, locale) => {
      const text = formatLocaleNumber(value, locale);
      expect(parseLocaleNumber(text, locale), `${locale} ${text}`).toBe(value === 0 ? 0 : value);
    }),
  );
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z from 'zod/mini';
import { _isoDate, _isoDateTime } from 'zod/v4/core';
import { isoDateSchema, isoDateTimeSchema } from '../../src/schema/primitives.js';
import { fromZodIssues } from '../../src/errors/zod-issues.js';

// The core builds its ISO date and date-time formats as `z.stringFormat`s (issue 15: zod's ISO classes and
// pattern builders cost ~0.14 kB gz in every bundle). They must read exactly as zod's `z.iso.datetime({ offset:
// true })` and `z.iso.date()` did: the same verdict, the same crmkit issue, the same `format` (imports' field kinds).
const zodDateTime = _isoDateTime(z.ZodMiniISODateTime, { offset: true, local: false });
const zodDate = _isoDate(z.ZodMiniISODate);

const issues = (schema: z.ZodMiniType, value: unknown) => {
  const result = schema.safeParse(value);
  return result.success ? [] : fromZodIssues(result.error.issues);
};

const digits = (n: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((d) => d.join(''));
const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
const part = fc.oneof(digits(1), digits(2), digits(3), digits(4), fc.constantFrom('00', '02', '29', '30', '31', '12', '13', '23', '24', '59', '60'));
const sep = fc.constantFrom('-', ':', 'T', '.', 'Z', '+', ' ', 't', 'z', '');
/** Strings near the ISO shapes: date-time-like pieces and separators, real dates and times, offsets, fractions. */
const isoLike = fc.oneof(
  fc.array(fc.oneof(part, sep), { maxLength: 14 }).map((p) => p.join('')),
  fc.tuple(fc.integer({ min: -62_198_755_200_000, max: 253_433_923_199_999 }), fc.constantFrom('Z', '+01:00', '-23:59', '+24:00', '', '+0100', 'z'), fc.nat(9), fc.boolean()).map(
    ([ms, zone, cut, seconds]) => {
      const text = new Date(ms).toISOString().replace('Z', '');
      return `${seconds ? text.slice(0, 19 + (cut % 5)) : text.slice(0, 16)}${zone}`;
    },
  ),
  fc.tuple(digits(4), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 })).map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
  fc.tuple(two(30), two(61), two(61), fc.constantFrom('', '.5', '.123', '.', '.1234567'), fc.constantFrom('Z', '+01:00', '-23:59', '+24:00', '-00:60', '')).map(
    ([h, m, s, fraction, zone]) => `2026-03-01T${h}:${m}:${s}${fraction}${zone}`,
  ),
  fc.string(),
);

describe('ISO date and date-time formats (issue 15: stringFormats instead of zod ISO classes)', () => {
  it('a date-time gets the verdict and the issues of zod’s iso.datetime({ offset: true }) with the year-range rule', () => {
    const ours = isoDateTimeSchema();
    const theirs = zodDateTime.check(z.refine((value, ms = Date.parse(value)) => !(ms < -62_167_219_200_000 || ms > 253_402_300_799_999), 'must be in UTC years 0000-9999'));
    fc.assert(
      fc.property(fc.oneof(isoLike, isoLike.map((d) => d.slice(0, 10)).chain((d) => fc.constantFrom(`${d}T10:00:00Z`, `${d}T23:59:59.5+05:30`))), (value) => {
        expect(issues(ours, value)).toEqual(issues(theirs, value));
      }),
      { numRuns: 3000 },
    );
  });

  it('a date gets the verdict and the issues of zod’s iso.date()', () => {
    fc.assert(fc.property(fc.oneof(isoLike, isoLike.map((d) => d.slice(0, 10))), (value) => {
      expect(issues(isoDateSchema, value)).toEqual(issues(zodDate, value));
    }), { numRuns: 3000 });
  });

  it('leap days, month lengths, offsets and non-strings as zod reads them, with the same issue words and formats', () => {
    const cases = ['2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2000-02-29T12:00:00.123+01:00', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-12-31T24:00:00Z', '2026-12-31T23:59:60Z', '2026-12-31T23:59Z', '2026-12-31T23:59:59', '2026-12-31T23:59:59+0100', '2026-12-31T23:59:59.Z', '9999-12-31T23:59:59-23:59', 42, null, undefined];
    for (const value of cases) {
      expect(issues(isoDateTimeSchema(), value), String(value)).toEqual(issues(zodDateTime.check(z.refine((v, ms = Date.parse(v)) => !(ms < -62_167_219_200_000 || ms > 253_402_300_799_999), 'must be in UTC years 0000-9999')), value));
      const date = typeof value === 'string' ? value.slice(0, 10) : value;
      expect(issues(isoDateSchema, date), String(date)).toEqual(issues(zodDate, date));
    }
    expect(issues(isoDateTimeSchema(), '2026-13-01T00:00:00Z')).toEqual([{ path: [], code: 'invalid_format', message: 'must be a valid datetime' }]);
    expect(issues(isoDateSchema, '2026-02-30')).toEqual([{ path: [], code: 'invalid_format', message: 'must be a valid date' }]);
    expect([isoDateTimeSchema()._zod.def, isoDateSchema._zod.def].map((d) => [d.type, (d as { format?: string }).format])).toEqual([['string', 'datetime'], ['string', 'date']]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CrmError, divideHalfEven, lineTotal, roundHalfEven, weightedAmount } from '@crmkit/core';

/** Exact rational rounding, half to even, as the oracle. */
function oracle(numerator: bigint, denominator: bigint): bigint {
  const q = numerator / denominator;
  const r = numerator % denominator;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice < denominator) return q;
  const away = numerator < 0n ? q - 1n : q + 1n;
  if (twice > denominator) return away;
  return q % 2n === 0n ? q : away;
}

describe('money arithmetic', () => {
  it('divideHalfEven agrees with exact rational rounding', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (n, d) => {
        expect(divideHalfEven(n, d)).toBe(oracle(n, d));
      }),
    );
  });

  it('rounds ties to even', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, 0, -2, 2, 3]);
    expect(divideHalfEven(5n, 2n)).toBe(2n);
    expect(divideHalfEven(7n, 2n)).toBe(4n);
    expect(divideHalfEven(-5n, 2n)).toBe(-2n);
  });

  it('prices lines on integers: quantity thousandths and discount hundredths of a percent', () => {
    expect(lineTotal(2.5, 1999)).toBe(4998); // 4997.5 → 4998 (even)
    expect(lineTotal(0.1, 3)).toBe(0); // 0.3 → 0
    expect(lineTotal(0.3, 30)).toBe(9); // no float drift: 0.3 is 300 thousandths
    expect(() => lineTotal(1, 0.1 * 3 * 10)).toThrow(CrmError); // unit prices are integers (VALIDATION)
    expect(lineTotal(40, 129_00, 12.5)).toBe(451_500);
    expect(lineTotal(1, 1, 50)).toBe(0); // 0.5 → 0
    expect(lineTotal(1, 3, 50)).toBe(2); // 1.5 → 2
  });

  it('a line total equals the exactly rounded rational value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000 }), (qtyMilli, price, discountBasis) => {
        const expected = oracle(BigInt(qtyMilli) * BigInt(price) * BigInt(10_000 - discountBasis), 10_000_000n);
        expect(lineTotal(qtyMilli / 1000, price, discountBasis / 100)).toBe(Number(expected));
      }),
    );
  });

  it('weights amounts by probability half-even and refuses inexact results', () => {
    expect(weightedAmount(1001, 50)).toBe(500); // 500.5 → 500
    expect(weightedAmount(1003, 50)).toBe(502); // 501.5 → 502
    expect(weightedAmount(10_000, 33.33)).toBe(3333);
    expect(() => lineTotal(1_000_000_000, Number.MAX_SAFE_INTEGER)).toThrow(/exceeds the largest exact amount/);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 100 }), (amount, p) => {
        const w = weightedAmount(amount, p);
        expect(Number.isSafeInteger(w)).toBe(true);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(w).toBeLessThanOrEqual(amount);
      }),
    );
  });
});

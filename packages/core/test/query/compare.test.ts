import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { compareRows, compareStrings, compareValues, decodeCursor, encodeCursor, matchFilter } from '@crmkit/core/storage';

const codePointCompare = (a: string, b: string) => {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};

describe('compare', () => {
  it('orders strings by Unicode code point, like SQLite BINARY and PostgreSQL "C"', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), (a, b) => {
        expect(Math.sign(compareStrings(a, b))).toBe(Math.sign(codePointCompare(a, b)));
      }),
    );
    expect(compareStrings('\uFFFF', '🙂')).toBeLessThan(0); // JS '<' says the opposite
  }, 60_000);

  it('is a total order: missing < booleans < numbers < strings', () => {
    const sorted = [undefined, false, true, -1, 0, 2.5, '', 'A', 'a'];
    for (let i = 0; i < sorted.length; i++) {
      for (let j = 0; j < sorted.length; j++) expect(Math.sign(compareValues(sorted[i], sorted[j]))).toBe(Math.sign(i - j) * (sorted[i] === undefined && sorted[j] === undefined ? 0 : 1));
    }
    expect(compareValues(null, undefined)).toBe(0);
  });

  it('sorts rows by keys, then id ascending', () => {
    const rows = [{ id: 'b', n: 1 }, { id: 'a', n: 1 }, { id: 'c' }, { id: 'd', n: 0 }];
    expect([...rows].sort(compareRows([{ field: 'n', direction: 'desc' }])).map((r) => r.id)).toEqual(['a', 'b', 'd', 'c']);
    expect([...rows].sort(compareRows([{ field: 'n' }])).map((r) => r.id)).toEqual(['c', 'd', 'a', 'b']);
  });
});

describe('match', () => {
  it('never reaches prototype members through a path', () => {
    expect(matchFilter({ id: 'x' }, { op: 'eq', field: 'constructor', value: null })).toBe(true);
    expect(matchFilter({ id: 'x' }, { op: 'prefix', field: '__proto__.toString', value: '' })).toBe(false);
  });
});

describe('cursors', () => {
  it('round-trip the sort values and id', () => {
    const sort = [{ field: 'value.amount' }, { field: 'title', direction: 'desc' as const }];
    const cursor = encodeCursor({ id: 'd1', value: { amount: 5 }, title: 'Ω 🙂' }, sort);
    expect(decodeCursor(cursor, sort)).toEqual({ values: [5, 'Ω 🙂'], id: 'd1' });
    expect(decodeCursor(encodeCursor({ id: 'x' }, sort), sort)).toEqual({ values: [null, null], id: 'x' });
  });

  it('reject garbage, tampering and another sort with VALIDATION', () => {
    const sort = [{ field: 'title' }];
    const good = encodeCursor({ id: 'a', title: 't' }, sort);
    for (const bad of ['', '!!!', 'e30', good.slice(0, -3), 'x'.repeat(5000)]) {
      const error = (() => {
        try {
          decodeCursor(bad, sort);
        } catch (e) {
          return e;
        }
      })();
      expect(isCrmError(error, 'VALIDATION')).toBe(true);
    }
    expect(() => decodeCursor(good, [{ field: 'id' }])).toThrow(/different sort/);
  });
});

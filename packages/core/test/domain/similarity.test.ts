import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scoreDuplicate } from '../../src/domain/duplicates.js';
import { jaroWinkler, nameSimilarity } from '../../src/domain/similarity.js';

describe('similarity', () => {
  it('matches the textbook Jaro-Winkler values', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.9611, 4);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.8133, 4);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('same', 'same')).toBe(1);
  });

  it('is symmetric, bounded and 1 only for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const s = jaroWinkler(a, b);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1 + 1e-12);
        expect(jaroWinkler(b, a)).toBeCloseTo(s, 12);
        if (a !== b) expect(s).toBeLessThan(1);
      }),
    );
  });

  it('ignores word order in names', () => {
    expect(nameSimilarity('smith john', 'john smith')).toBe(1);
  });

  it('scores duplicates with reasons, strongest first', () => {
    const { score, reasons } = scoreDuplicate(
      { name: 'Jon Smith', email: 'j.smith+x@gmail.com', phone: '+7 (912) 345 67 89' },
      'person',
      { name: 'John Smith', email: 'jsmith@googlemail.com', phone: '+79123456789' },
      'person',
    );
    expect(reasons.map((r) => r.kind)).toEqual(['email', 'phone', 'name']);
    expect(score).toBeGreaterThan(0.99);
    const weak = scoreDuplicate({ name: 'Ann Lee', email: 'ann@acme.com' }, 'person', { name: 'Bob Stone', email: 'bob@acme.com' }, 'person');
    expect(weak.reasons.map((r) => r.kind)).toEqual(['domain']);
    expect(weak.score).toBeLessThan(0.5);
    const company = scoreDuplicate({ name: 'Ann Lee', email: 'ann@acme.com', companyName: 'ACME Inc.' }, 'person', { name: 'Acme', domain: 'acme.com' }, 'company');
    expect(company.reasons.map((r) => r.kind).sort()).toEqual(['companyName', 'domain']);
  });
});

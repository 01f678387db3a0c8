import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '@crmkit/core';
import { createIdGenerator } from '../../src/domain/ids.js';

describe('ids', () => {
  it('are prefixed, time-ordered and strictly increasing within a millisecond', () => {
    const next = createIdGenerator(createSeededRandom(7));
    const ids = [next('deal', 1000), next('deal', 1000), next('deal', 1000), next('deal', 1001), next('deal', 5000)];
    expect(ids.every((id) => /^deal_[0-9A-Z]{22}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are reproducible from a seed', () => {
    const a = createIdGenerator(createSeededRandom('s'));
    const b = createIdGenerator(createSeededRandom('s'));
    expect([a('lead', 1), a('lead', 2)]).toEqual([b('lead', 1), b('lead', 2)]);
    expect(a('contact', 3).startsWith('ctc_')).toBe(true);
  });

  it('seeded random numbers stay in [0, 1) and differ between seeds', () => {
    const r = createSeededRandom(1);
    const values = Array.from({ length: 1000 }, () => r.next());
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(createSeededRandom(2).next()).not.toBe(createSeededRandom(1).next());
  });
});

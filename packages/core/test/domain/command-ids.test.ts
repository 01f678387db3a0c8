import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { ID_PREFIX, createCommandIds } from '@crmkit/core/storage';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const seedArb = fc.tuple(fc.constantFrom(...CROCKFORD.slice(0, 16)), fc.array(fc.constantFrom(...CROCKFORD), { minLength: 11, maxLength: 11 })).map(([h, t]) => h + t.join(''));
const atArb = fc.integer({ min: 0, max: 2 ** 48 });

/** Design sync.md §5 and test 6: the ids a command derives from its `(at, seed)`. */
describe('createCommandIds', () => {
  it('the same (at, seed) gives the same ids; the first id carries the seed, later ones increase', () => {
    fc.assert(
      fc.property(atArb, seedArb, fc.array(fc.constantFrom('deal', 'task', 'stageVisit', 'contact'), { minLength: 1, maxLength: 20 }), (at, seed, entities) => {
        const a = createCommandIds(at, seed);
        const b = createCommandIds(at, seed);
        const first = entities.map((e) => a(e, 123));
        expect(entities.map((e) => b(e, 456))).toEqual(first);
        expect(first[0]!.endsWith(seed)).toBe(true);
        const tails = first.map((id) => id.slice(id.indexOf('_') + 1));
        for (let i = 1; i < tails.length; i++) expect(tails[i]! > tails[i - 1]!).toBe(true);
        for (const [i, id] of first.entries()) expect(id).toMatch(new RegExp(`^${ID_PREFIX[entities[i]!]}_[0-9A-HJKMNP-TV-Z]{22}$`));
      }),
    );
  });

  it('a million ids from the highest seed stay well-formed and increasing (no overflow)', () => {
    const next = createCommandIds(2 ** 48, 'FZZZZZZZZZZZ');
    let last = next('deal');
    for (let i = 0; i < 1_000_000; i++) {
      const id = next('deal');
      if (!(id > last) || id.length !== last.length) throw new Error(`not increasing at ${i}: ${last} → ${id}`);
      last = id;
    }
    expect(last).toMatch(/^deal_[0-9A-HJKMNP-TV-Z]{22}$/);
  });

  it('refuses a malformed seed or time with VALIDATION naming it', () => {
    for (const [at, seed, path] of [[0, 'GZZZZZZZZZZZ', 'seed'], [0, 'abcdefghijkl', 'seed'], [0, '0000000000I0', 'seed'], [-1, '000000000000', 'at'], [1.5, '000000000000', 'at'], [2 ** 48 + 1, '000000000000', 'at']] as const) {
      let error: unknown;
      try {
        createCommandIds(at, seed);
      } catch (e) {
        error = e;
      }
      expect(isCrmError(error, 'VALIDATION') && error.details.issues.map((i) => i.path.join('.'))).toEqual([path]);
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUnstorableText, unstorableTextReason } from '../../src/domain/storable-text.js';

/** The walk as it was before it built paths lazily (issue 17): a path array per visited node. */
function reference(value: unknown, path: (string | number)[] = [], maxDepth = 64): { path: (string | number)[]; message: string } | undefined {
  if (typeof value === 'string') {
    const message = unstorableTextReason(value);
    return message ? { path, message } : undefined;
  }
  if (value === null || typeof value !== 'object' || maxDepth <= 0) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = reference(value[i], [...path, i], maxDepth - 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const keyReason = unstorableTextReason(key);
    if (keyReason) return { path: [...path, key], message: `field names ${keyReason}` };
    const found = reference((value as Record<string, unknown>)[key], [...path, key], maxDepth - 1);
    if (found) return found;
  }
  return undefined;
}

/** Text that is sometimes unstorable: NUL or a lone surrogate now and then. */
const text = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('a\u0000b', '\ud800', 'x\udc00', '\ud83d\ude00', ''));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(text, tie('value'), { maxKeys: 4 }),
})).value;

describe('findUnstorableText', () => {
  it('finds the first unstorable text with its path, as the eager walk did', () => {
    fc.assert(
      fc.property(json, fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.nat(5)), { maxLength: 3 }), fc.integer({ min: 0, max: 6 }), (value, base, depth) => {
        expect(findUnstorableText(value, [...base], depth)).toEqual(reference(value, [...base], depth));
        expect(findUnstorableText(value)).toEqual(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it('names nested keys and array positions', () => {
    expect(findUnstorableText({ a: [{ ok: 1 }, { b: 'x\u0000' }] }, ['row'])).toEqual({ path: ['row', 'a', 1, 'b'], message: 'must not contain NUL characters' });
    expect(findUnstorableText({ a: { '\ud800': 1 } })).toEqual({ path: ['a', '\ud800'], message: 'field names must not contain unpaired UTF-16 surrogates (malformed Unicode)' });
    expect(findUnstorableText({ a: ['fine'] })).toBeUndefined();
  });
});

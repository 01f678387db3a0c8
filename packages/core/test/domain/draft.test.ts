import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { produce } from '../../src/domain/draft.js';
import { deepFreeze } from '../../src/storage/deep-freeze.js';

describe('produce (the JSON copy-and-compare that replaced immer)', () => {
  it('edits nested values of a copy and leaves a frozen base untouched', () => {
    const base = deepFreeze({ id: 'd1', stages: [{ key: 'new', name: 'New' }], value: { amount: 1, currency: 'EUR' } });
    const next = produce(base, (draft) => {
      draft.stages[0]!.name = 'Fresh';
      draft.value.amount = 2;
    });
    expect(base).toEqual({ id: 'd1', stages: [{ key: 'new', name: 'New' }], value: { amount: 1, currency: 'EUR' } });
    expect(next).toEqual({ id: 'd1', stages: [{ key: 'new', name: 'Fresh' }], value: { amount: 2, currency: 'EUR' } });
    expect(Object.isFrozen(next)).toBe(false);
  });

  it('returns the base itself when the recipe changed nothing (callers skip the write)', () => {
    const base = { id: 'd1', tags: ['a'], note: 'x' };
    expect(produce(base, () => undefined)).toBe(base);
    expect(produce(base, (draft) => void (draft.tags = ['a']))).toBe(base);
    expect(produce(base, (draft) => void (draft.note = 'y'))).not.toBe(base);
  });

  it('keeps a stored "__proto__" key as data', () => {
    const base = JSON.parse('{"id":"c1","custom":{"__proto__":{"polluted":true}}}') as { id: string; custom: Record<string, unknown> };
    const next = produce(base, (draft) => void (draft.id = 'c2'));
    expect(Object.getPrototypeOf(next.custom)).toBe(Object.prototype);
    expect(Object.keys(next.custom)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a recipe that deletes a key and puts it back unchanged yields the base (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.jsonValue()), (record) => {
        const base = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
        const keys = Object.keys(base);
        const result = produce(base, (draft) => {
          for (const k of keys) {
            const v = draft[k];
            delete draft[k];
            draft[k] = v;
          }
        });
        expect(result).toBe(base);
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { CrmError, isCrmError } from '@crmkit/core';

/** What another copy of the package (ESM next to CJS, two versions) throws: its own class, the same brand. */
class ForeignCrmError extends Error {
  readonly code = 'CONFLICT';
  readonly details = { entity: 'deal', id: 'd1', expectedVersion: 1, actualVersion: 2 };
  get [Symbol.for('crmkit.CrmError')](): true {
    return true;
  }
}

describe('CrmError across copies of the package', () => {
  it('isCrmError and instanceof recognise a CrmError of another copy by its Symbol.for brand', () => {
    const foreign = new ForeignCrmError('changed');
    expect(isCrmError(foreign)).toBe(true);
    expect(isCrmError(foreign, 'CONFLICT')).toBe(true);
    expect(isCrmError(foreign, 'NOT_FOUND')).toBe(false);
    expect(foreign instanceof CrmError).toBe(true);
  });

  it('rejects look-alikes without the brand, and keeps recognising its own errors', () => {
    const lookAlike = Object.assign(new Error('x'), { code: 'CONFLICT', details: {} });
    expect(isCrmError(lookAlike)).toBe(false);
    expect(lookAlike instanceof CrmError).toBe(false);
    expect([null, undefined, 'CONFLICT', { code: 'CONFLICT' }].map((v) => isCrmError(v))).toEqual([false, false, false, false]);
    const own = new CrmError('NOT_FOUND', 'gone', { entity: 'deal', id: 'd1' });
    expect(own instanceof CrmError && own instanceof Error && isCrmError(own, 'NOT_FOUND')).toBe(true);
    expect(Object.keys(own)).not.toContain(String(Symbol.for('crmkit.CrmError')));
    expect(JSON.parse(JSON.stringify(own))).toEqual({ name: 'CrmError', code: 'NOT_FOUND', message: 'gone', details: { entity: 'deal', id: 'd1' } });
  });
});

import { expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';

// fixerr: options whose getters throw let the caller's own error escape createIndexedDbStorage.
it('createIndexedDbStorage refuses options it cannot read with VALIDATION', () => {
  const boom = (): never => {
    throw new Error('a getter of the caller threw');
  };
  for (const options of [Object.defineProperty({}, 'name', { get: boom, enumerable: true }), new Proxy({}, { get: boom, ownKeys: boom, getOwnPropertyDescriptor: boom })]) {
    let error: unknown;
    try {
      createIndexedDbStorage(options as never);
    } catch (e) {
      error = e;
    }
    expect(isCrmError(error, 'VALIDATION')).toBe(true);
  }
});

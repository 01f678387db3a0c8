import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncServer } from '@crmkit/sync/server';
import { serverOf } from '../server/support.js';

/**
 * review13b B5: `createSyncServer({ limits })` takes any number. `pageRows: 0` is accepted and every pull then
 * fails inside `changesAfter` with a TypeError (reading `txPosition` of an empty page), not a typed error;
 * `commands: 0` refuses every push forever. A host typo is a `VALIDATION` naming the limit at start (fixed).
 */
describe('review13b: sync server limits', () => {
  it('refuses limits that make every request fail', async () => {
    const { crm } = await serverOf(() => createMemoryStorage());
    for (const limits of [{ pageRows: 0 }, { pageRows: -5 }, { commands: 0 }, { bodyBytes: Number.NaN }, { pageBytes: -1 }]) {
      expect(() => createSyncServer(crm, { principal: () => ({ userId: 'anna' }), limits }), JSON.stringify(limits)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createMemoryStorage, isCrmError } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { describeStorageConformance } from '@crmkit/core/testing/conformance';

describeStorageConformance('memory', () => createMemoryStorage(), createMemoryStorage().capabilities, { numRuns: 150 });

describe('memory storage specifics', () => {
  it('rejects use before open with STORAGE', async () => {
    const storage = createMemoryStorage();
    const error = await storage.transaction('r', async () => 1).catch((e: unknown) => e);
    expect(isCrmError(error, 'STORAGE')).toBe(true);
  });

  it('hands out frozen rows so callers cannot corrupt stored state', async () => {
    const storage = createMemoryStorage();
    await storage.open(CRM_STORAGE_SCHEMA);
    const row = { id: 'a', tenantId: 't', version: 1, nested: { x: 1 } };
    await storage.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row }]));
    const [stored] = await storage.transaction('r', (tx) => tx.getMany('deal', 't', ['a']));
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen((stored as unknown as { nested: object }).nested)).toBe(true);
  });

  it('snapshot lists every row by entity and tenant', async () => {
    const storage = createMemoryStorage();
    await storage.open(CRM_STORAGE_SCHEMA);
    await storage.transaction('rw', (tx) => tx.write('lead', 't', [{ type: 'insert', row: { id: 'b', tenantId: 't', version: 1 } }, { type: 'insert', row: { id: 'a', tenantId: 't', version: 1 } }]));
    expect(storage.snapshot().lead).toEqual({ t: [{ id: 'a', tenantId: 't', version: 1 }, { id: 'b', tenantId: 't', version: 1 }] });
  });
});

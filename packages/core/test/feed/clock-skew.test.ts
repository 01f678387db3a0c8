import { describe, expect, it } from 'vitest';
import { createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { createTestCrm } from '@crmkit/core/testing';

/** A memory storage whose "database server" clock runs `skewMs` ahead of the process's clock. */
function skewedStorage(skewMs: number, now: () => number) {
  const inner = createMemoryStorage();
  return Object.assign(Object.create(inner) as StorageAdapter, { databaseTime: async () => now() + skewMs }) as ReturnType<typeof createMemoryStorage>;
}

describe('clock skew between a process and the database server', () => {
  for (const [skewMs, warns] of [[22_000, true], [-1000, true], [10, false]] as const) {
    it(`${skewMs} ms: ${warns ? 'warns once' : 'stays quiet'}`, async () => {
      const warnings: unknown[] = [];
      const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (message: string, data?: unknown) => void (message.includes('clock') && warnings.push(data)) };
      let clockNow = () => 0;
      const { crm, clock } = await createTestCrm({ logger, features: [events()], storage: skewedStorage(skewMs, () => clockNow()) });
      clockNow = () => clock.now();
      const consumer = await crm.events.consume('c', () => undefined, { start: false });
      await consumer.drain();
      await consumer.drain();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings).toEqual(warns ? [expect.objectContaining({ skewMs })] : []);
      await crm.close();
    });
  }
});

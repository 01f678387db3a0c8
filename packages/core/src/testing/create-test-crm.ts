import { createCrm, type Crm, type CreateCrmOptions } from '../crm/create-crm.js';
import { silentLogger } from '../crm/logger.js';
import { createMemoryStorage, type MemoryStorage } from '../storage/memory-storage.js';
import type { StorageAdapter } from '../storage/storage-adapter.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';

export interface CreateTestCrmOptions extends Partial<Omit<CreateCrmOptions, 'clock'>> {
  /** Start time of the fake clock (default `2026-01-05T09:00:00.000Z`). */
  readonly now?: string | number;
  /** Seed of ids (default 1): the same test makes the same ids. */
  readonly seed?: number | string;
}

/** A CRM on memory storage with a fake clock and seeded ids, plus handles to both. */
export interface TestCrm<S extends StorageAdapter = MemoryStorage> {
  readonly crm: Crm;
  readonly clock: FakeClock;
  readonly storage: S;
}

/**
 * Creates a CRM for tests of funnel logic: memory storage, a fake clock, reproducible ids,
 * tenant `test`, actor `tester`, silent logger.
 *
 * @example
 * const { crm, clock } = await createTestCrm();
 * const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
 * clock.advance(3 * 86_400_000);
 */
export async function createTestCrm(options: CreateTestCrmOptions = {}): Promise<TestCrm> {
  const { now, seed, ...crmOptions } = options;
  const clock = createFakeClock(now);
  const storage = (crmOptions.storage as MemoryStorage | undefined) ?? createMemoryStorage();
  const crm = await createCrm({
    tenantId: 'test',
    actor: { userId: 'tester' },
    logger: silentLogger,
    random: { seed: seed ?? 1 },
    ...crmOptions,
    storage,
    clock,
  });
  return { crm, clock, storage };
}

import { describe, it } from 'vitest';
import { createMemoryStorage } from '@crmkit/core';
import { upgradeFromLegacyConsumer, upgradeWithParkedAboveSlowest } from './notice-handover-scenario.js';

describe('upgrade from the single notice consumer of earlier versions (memory)', () => {
  for (const status of ['pending', 'parked'] as const) {
    for (const prune of [false, true]) {
      it(`carries a ${status} notice over${prune ? ', after the feed was pruned to its checkpoint' : ''}`, async () => {
        const storage = createMemoryStorage();
        await upgradeFromLegacyConsumer(() => storage, status, prune);
      });
    }
  }
  for (const replayFirst of [false, true]) {
    it(`keeps a parked notice above the slowest checkpoint parked until a replay${replayFirst ? ' made before the checkpoint reaches it' : ''}`, async () => {
      const storage = createMemoryStorage();
      await upgradeWithParkedAboveSlowest(() => storage, replayFirst);
    });
  }
  it('never delivers a parked notice above the slowest checkpoint discarded before the checkpoint reaches it', async () => {
    const storage = createMemoryStorage();
    await upgradeWithParkedAboveSlowest(() => storage, true, true);
  });
});

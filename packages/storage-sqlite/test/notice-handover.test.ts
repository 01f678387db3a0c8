import { afterAll, afterEach, describe, it } from 'vitest';
import { upgradeFromLegacyConsumer, upgradeWithParkedAboveSlowest } from '../../core/test/scheduler/notice-handover-scenario.js';
import { fleetEngines, type Cleanups } from './support/fleet.js';

/** The upgrade from the single notice consumer of earlier versions, on one SQLite file and one PostgreSQL schema. */

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'handover');
afterAll(() => end());

describe.each(engines)('upgrade from the single notice consumer on $name', { timeout: 120_000 }, (engine) => {
  for (const status of ['pending', 'parked'] as const) {
    for (const prune of [false, true]) {
      it(`carries a ${status} notice over${prune ? ', after a prune' : ''}`, async () => {
        const db = await engine.make();
        // One adapter (opened by the first crm, closed by none of them): the test writes the old version's rows through it.
        const adapter = db.storage();
        try {
          await upgradeFromLegacyConsumer(() => adapter, status, prune);
        } finally {
          await adapter.close();
        }
      });
    }
  }
  for (const replayFirst of [false, true]) {
    it(`keeps a parked notice above the slowest checkpoint parked until a replay${replayFirst ? ' made before the checkpoint reaches it' : ''}`, async () => {
      const db = await engine.make();
      const adapter = db.storage();
      try {
        await upgradeWithParkedAboveSlowest(() => adapter, replayFirst);
      } finally {
        await adapter.close();
      }
    });
  }
  it('never delivers a parked notice above the slowest checkpoint discarded before the checkpoint reaches it', async () => {
    const db = await engine.make();
    const adapter = db.storage();
    try {
      await upgradeWithParkedAboveSlowest(() => adapter, true, true);
    } finally {
      await adapter.close();
    }
  });
});

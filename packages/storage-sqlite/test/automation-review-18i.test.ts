import { afterAll, afterEach, describe, it } from 'vitest';
import * as scenarios from '../../core/test/automations/review-18i-scenarios.js';
import { fleetEngines, type Cleanups } from './support/fleet.js';

// Review 18i #1-#3 on SQLite (a file) and PostgreSQL: the same scenarios as on memory
// (packages/core/test/automations/review-18i.test.ts); the lagging process is a second connection.
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});
const { engines, end } = fleetEngines(() => cleanups, 'review18i');
afterAll(() => end());

describe.each(engines)('review 18i on $name', { timeout: 120_000 }, (engine) => {
  const open = async () => (await engine.make()).storage;
  it('#1 a view gets no rule configuration', async () => scenarios.viewSeesNoRuleConfig(await open()));
  it('#2 a clock stepped back by more than the overlap', async () => scenarios.clockStepBack(await open()));
  it('#2 a process whose clock lags', async () => scenarios.laggingPeer(await open()));
  it('#3 conditions that never or always hold by their shape', async () => scenarios.shapeVerdicts(await open()));
});

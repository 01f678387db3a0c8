import { describe, it } from 'vitest';
import * as scenarios from './review-18i-scenarios.js';

// Review 18i #1-#3 on memory; the same scenarios run on SQLite and PostgreSQL in
// packages/storage-sqlite/test/automation-review-18i.test.ts.
describe('review 18i on memory', () => {
  it('#1 a view gets no rule configuration: runs, trigger and simulate without plan; get / list FORBIDDEN', () => scenarios.viewSeesNoRuleConfig());
  it('#2 a clock stepped back by more than the overlap: the time rule still fires', () => scenarios.clockStepBack());
  it('#2 a process whose clock lags: its writes fire the ticking process’s time rule', () => scenarios.laggingPeer(scenarios.sharedMemory()));
  it('#3 conditions that never or always hold by their shape are VALIDATION at their path', () => scenarios.shapeVerdicts());
});

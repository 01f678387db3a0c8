import { describe, it } from 'vitest';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { mergesRecordUpdates, pipelineEditsCheckRules, runEventsFollowFieldRules } from '../../core/test/automations/fix18m-scenarios.js';

// Review 18f #8, #9 and the copied-fields finding (fix18m #1-#3) on SQLite: the same scenarios as on memory.
const sqlite = () => createSqliteStorage({ filename: ':memory:' });

describe('fix18m on SQLite', () => {
  it('pipeline edits that would break an enabled rule are refused, naming it; enable re-checks', () => pipelineEditsCheckRules(sqlite));
  it("merges and their undo record the survivor's update: field triggers fire", () => mergesRecordUpdates(sqlite));
  it("a real run's records and events reach a view by its field rules, refs and timelines included", () => runEventsFollowFieldRules(sqlite));
});

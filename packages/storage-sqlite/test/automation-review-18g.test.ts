import { describe, it } from 'vitest';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import * as scenarios from '../../core/test/automations/review-18g-scenarios.js';

// Review 18g #3-#7 on SQLite: the same scenarios as on memory (packages/core/test/automations/review-18g.test.ts).
const sqlite = () => createSqliteStorage({ filename: ':memory:' });

describe('review 18g on SQLite', () => {
  it('#3 define refuses rules reading what the service principal may not read', () => scenarios.definesRefuseHiddenReads(sqlite));
  it('#3 a policy changed after define: runs fail FORBIDDEN', () => scenarios.policyChangedRunsFail(sqlite));
  it('#3 the triggering event as the principal sees it', () => scenarios.removedRecordAsSeen(sqlite));
  it('#4 taskDue escalates its task', () => scenarios.taskDueEscalates(sqlite));
  it('#4 task.completed: follow-up task and activity', () => scenarios.taskCompletedFollowUp(sqlite));
  it('#4 activity.logged: call-back task; a manual activity rule', () => scenarios.activityCallBack(sqlite));
  it('#5 merges and undos start rules', () => scenarios.mergeStartsRules(sqlite));
  it('#5 a removed record rule', () => scenarios.removedRecordRule(sqlite));
  it('#7 enable re-checks', () => scenarios.enableRechecks(sqlite));
});

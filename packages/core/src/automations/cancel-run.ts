import type { Operation } from '../crm/operation.js';
import type { CrmEventName } from '../events/event-map.js';
import { without } from '../domain/records.js';
import type { AutomationRun } from './automation-schema.js';
import { runRefs } from './run-actions.js';

/** The reason of a waiting run cancelled because its rule was turned off. */
export const DISABLED = 'cancelled: the rule was disabled';

/** Waiting runs cancelled per transaction page. */
const PAGE = 500;

/**
 * Cancels a waiting run whose rule was disabled (or removed): it becomes `cancelled` with the reason,
 * and an `automation.ran` entry says so on the record's timeline. What the run did before its wait stays.
 */
export async function cancelRun(op: Operation, run: AutomationRun, reason: string): Promise<void> {
  const next = { ...without(run, 'resumeAt', 'resumeFrom'), version: run.version + 1, updatedAt: op.now, status: 'cancelled', reason } as AutomationRun;
  await op.update('automationRun', run, next);
  op.record('automation.ran' as CrmEventName, { type: run.subjectType, id: run.subjectId }, {
    runId: run.id, ruleId: run.ruleId, ruleName: run.ruleName, revision: run.revision, status: 'cancelled', triggerKey: run.triggerKey, triggerType: run.triggerType, depth: run.depth, actions: run.actions, reason,
  } as never, await runRefs(op, run.ruleId, { type: run.subjectType, id: run.subjectId }));
}

/** Cancels every waiting run of a rule (in the caller's transaction). @returns How many. */
export async function cancelWaitingRuns(op: Operation, ruleId: string, reason: string): Promise<number> {
  let count = 0;
  for (;;) {
    const { rows } = await op.query<AutomationRun>('automationRun', { filter: { op: 'and', filters: [{ op: 'eq', field: 'ruleId', value: ruleId }, { op: 'eq', field: 'status', value: 'waiting' }] }, limit: PAGE });
    for (const run of rows) await cancelRun(op, run, reason);
    count += rows.length;
    if (rows.length < PAGE) return count;
  }
}

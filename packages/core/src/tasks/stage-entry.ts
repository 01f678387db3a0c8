import { loadCalendar } from './calendar-cache.js';
import type { Deal } from '../schema/deal.js';
import type { Stage } from '../schema/pipeline.js';
import type { Task } from '../schema/task.js';
import type { TaskDraft } from '../domain/tasks/task-draft.js';
import { templateDueAt } from '../domain/tasks/task-due.js';
import { checkedTimestamp } from '../domain/clock.js';
import type { Operation } from '../crm/operation.js';
import { buildTasks } from './task-writer.js';

/**
 * Builds the tasks a stage's templates create when `deal` enters it: due times from the business
 * calendar, owners from the template's assignee (deal owner, a user, or a strategy). Not written.
 */
export async function stageEntryTasks(op: Operation, deal: Deal, stage: Stage): Promise<Task[]> {
  if (stage.taskTemplates.length === 0) return [];
  const calendar = await loadCalendar(op);
  const drafts: TaskDraft[] = [];
  for (const [i, template] of stage.taskTemplates.entries()) {
    let ownerId = deal.ownerId;
    if (template.assignee.kind === 'user') ownerId = template.assignee.userId;
    // A strategy needs the assignment feature; without it (a pipeline stored by another crm) the deal owner gets the task.
    const assignment = op.ctx.hooks.assignment;
    if (template.assignee.kind === 'strategy' && assignment) ownerId = (await assignment.resolveOwner(op, template.assignee.strategyId, deal))?.ownerId ?? deal.ownerId;
    drafts.push({
      subject: template.subject,
      type: template.type,
      // Due after 9999-12-31: no timestamp holds it, and entering the stage is refused.
      dueAt: checkedTimestamp(templateDueAt(template.due, op.nowMs, calendar), 'stage entry', 'stages', stage.key, 'taskTemplates', i, 'due'),
      ...(template.priority ? { priority: template.priority } : {}),
      required: template.required,
      stageKey: stage.key,
      dealId: deal.id,
      ...(deal.contactId ? { contactId: deal.contactId } : {}),
      ...(deal.companyId ? { companyId: deal.companyId } : {}),
      ...(ownerId ? { ownerId } : {}),
    });
  }
  return buildTasks(op, drafts, 'stage entry', [], [deal]);
}

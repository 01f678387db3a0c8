import { loadCalendar } from './calendar-cache.js';
import type { Deal } from '../schema/deal.js';
import type { Stage } from '../schema/pipeline.js';
import type { Task } from '../schema/task.js';
import type { TaskDraft } from '../domain/tasks/task-draft.js';
import { templateDueAt } from '../domain/tasks/task-due.js';
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
  for (const template of stage.taskTemplates) {
    let ownerId = deal.ownerId;
    if (template.assignee.kind === 'user') ownerId = template.assignee.userId;
    // A strategy needs the assignment feature; without it (a pipeline stored by another crm) the deal owner gets the task.
    const assignment = op.ctx.hooks.assignment;
    if (template.assignee.kind === 'strategy' && assignment) ownerId = (await assignment.resolveOwner(op, template.assignee.strategyId, deal))?.ownerId ?? deal.ownerId;
    drafts.push({
      subject: template.subject,
      type: template.type,
      dueAt: new Date(templateDueAt(template.due, op.nowMs, calendar)).toISOString(),
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

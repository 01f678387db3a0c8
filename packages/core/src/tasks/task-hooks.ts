import * as z from 'zod/mini';
import type { Checked, TaskHooks } from '../crm/feature-hooks.js';
import type { Operation } from '../crm/operation.js';
import { fromZodIssues } from '../errors/zod-issues.js';
import { compact, reviseRecord } from '../domain/records.js';
import type { TaskDraft } from '../domain/tasks/task-draft.js';
import type { Deal } from '../schema/deal.js';
import { taskTemplateSchema } from '../schema/task-template.js';
import { nextStepInputSchema, type Task } from '../schema/task.js';
import { stageEntryTasks } from './stage-entry.js';
import { loadTaskTypes } from './task-types.js';
import { buildTasks, checkCallerTasks, insertTasks, nextStepOwner, openTasksOf, postponedTask, taskRefs, withNextStep } from './task-writer.js';

const templatesSchema = z.array(taskTemplateSchema);

function checked<S extends z.ZodMiniType>(schema: S, input: unknown): Checked<z.output<S>> {
  const result = schema.safeParse(input);
  return result.success ? { value: result.data, issues: [] } : { issues: fromZodIssues(result.error.issues) };
}

/** Tasks created during the deal's current stage visit (the scope of `requiredTasksDone`). */
async function visitTasks(op: Operation, deal: Deal): Promise<Task[]> {
  const { rows } = await op.query<Task>('task', {
    filter: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal.id }, { op: 'eq', field: 'stageKey', value: deal.stageKey }, { op: 'gte', field: 'createdAt', value: deal.stageEnteredAt }] },
  });
  return rows;
}

/** How the funnel creates, moves and cancels tasks when the tasks feature is installed. */
export const taskHooks: TaskHooks = {
  parseNextStep: (input) => checked(nextStepInputSchema, input),

  parseTemplates(input, assignment) {
    const result = checked(templatesSchema, input);
    if (!assignment) {
      result.value?.forEach((template, i) => {
        if (template.assignee.kind === 'strategy') {
          result.issues.push({ path: [i, 'assignee'], code: 'feature_required', message: 'a strategy assignee needs the assignment() feature from @crmkit/core/assignment' });
        }
      });
    }
    return result.issues.length ? { issues: result.issues } : result;
  },

  moveContext: async (op, deal) => ({ openTasks: await openTasksOf(op, deal.id), stageTasks: await visitTasks(op, deal) }),

  async startDeal(op, deal, stage, nextStep, context) {
    const tasks = await stageEntryTasks(op, deal, stage);
    if (nextStep) {
      const links = compact({ dealId: deal.id, contactId: deal.contactId, companyId: deal.companyId, ownerId: nextStep.ownerId ?? nextStepOwner(op, deal.ownerId) });
      const step = await buildTasks(op, [{ ...nextStep, ...links } as TaskDraft], context, ['nextStep'], [deal]);
      checkCallerTasks(op, nextStep, step, context);
      tasks.push(...step);
    }
    return tasks;
  },

  async applyMove(op, deal, plan, openTasks, nextStep) {
    let open: Task[] = [...openTasks];
    const created: Task[] = plan.enter ? await stageEntryTasks(op, plan.deal, plan.enter) : [];
    const links = compact({ dealId: deal.id, contactId: deal.contactId, companyId: deal.companyId });
    if (nextStep) {
      const step = await buildTasks(op, [{ ...nextStep, ...links, ownerId: nextStep.ownerId ?? nextStepOwner(op, deal.ownerId) } as TaskDraft], 'deals.move', ['nextStep'], [plan.deal]);
      checkCallerTasks(op, nextStep, step, 'deals.move');
      created.push(...step);
    }
    if (plan.cancelOpenTasks) {
      for (const task of open) {
        await op.update('task', task, reviseRecord(task, op.now, (d) => {
          d.status = 'cancelled';
          d.cancelledAt = op.now;
        }));
        op.record('task.cancelled', { type: 'task', id: task.id }, { reason: 'deal lost' }, taskRefs(task));
      }
      open = [];
    }
    if (plan.postpone) {
      const { task, until, reason } = plan.postpone;
      if (task) {
        const moved = postponedTask(task, until, reason, op.now, 'deals.postpone');
        await op.update('task', task, moved);
        op.record('task.postponed', { type: 'task', id: task.id }, compact({ from: task.dueAt, to: until, reason, count: moved.postponeCount }), taskRefs(task));
        open = open.map((t) => (t.id === task.id ? moved : t));
      } else {
        // No next step yet: postponing creates the follow-up at the new date.
        created.push(...(await buildTasks(op, [{ subject: `Follow up: ${deal.title}`, type: 'call', dueAt: until, ...links, ...(deal.ownerId ? { ownerId: deal.ownerId } : {}) }], 'deals.postpone', [], [plan.deal])));
      }
    }
    return { open, created };
  },

  withNextStep,
  typeKeys: async (op) => (await loadTaskTypes(op)).map((t) => t.key),
  insert: insertTasks,
};

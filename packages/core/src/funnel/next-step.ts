import type { Checked } from '../crm/feature-hooks.js';
import type { CrmContext } from '../crm/context.js';
import type { NextStepInput } from '../schema/task.js';
import { unreadable } from '../crm/parse-input.js';

/** Why a next step was refused by a crm without the tasks feature. */
export const NEXT_STEP_NEEDS_TASKS = 'next steps are tasks: they need the tasks() feature from @crmkit/core/tasks';

/**
 * Checks the `nextStep` of a deal input or funnel move with the tasks feature; without it, a next
 * step is refused (`feature_required`). Problems are addressed under `nextStep`.
 */
export function checkNextStep(ctx: CrmContext, input: unknown): Checked<NextStepInput> {
  let raw: unknown;
  try {
    // A peek at the caller's input before it is parsed (and copied).
    raw = (input as { nextStep?: unknown } | null | undefined)?.nextStep;
  } catch (error) {
    return { issues: [unreadable(['nextStep'], error)] };
  }
  if (raw === undefined) return { issues: [] };
  const tasks = ctx.hooks.tasks;
  if (!tasks) return { issues: [{ path: ['nextStep'], code: 'feature_required', message: NEXT_STEP_NEEDS_TASKS }] };
  const { value, issues } = tasks.parseNextStep(raw);
  return { value, issues: issues.map((issue) => ({ ...issue, path: ['nextStep', ...issue.path] })) };
}

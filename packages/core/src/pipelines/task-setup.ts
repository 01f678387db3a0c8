import type { ValidationIssue } from '../errors/crm-error.js';
import type { CrmContext } from '../crm/context.js';
import type { ReferenceCheck } from '../crm/references.js';
import type { TaskTemplate } from '../schema/pipeline.js';

type Path = readonly (string | number)[];

/** The parts of a pipeline only the tasks feature acts on: stage task templates and strict next-step mode. */
export interface TaskSetup {
  readonly issues: ValidationIssue[];
  /** The templates of each checked list, defaults filled (same order as given). */
  readonly templates: (TaskTemplate[] | undefined)[];
  /** The assignment strategies the templates hand tasks to: checked to exist before the pipeline is written. */
  readonly refs: ReferenceCheck[];
}

/**
 * Checks task templates and strict next-step mode in a pipeline input. The tasks feature checks
 * templates (a `strategy` assignee also needs the assignment feature); without the tasks feature,
 * templates and `strictNextStep: true` are refused (`feature_required`): nothing would create the
 * tasks they promise.
 *
 * @param lists Raw template lists with their paths in the input.
 * @param strict The raw `strictNextStep` setting with its path, when the input has settings.
 */
export function checkTaskSetup(ctx: CrmContext, lists: readonly (readonly [unknown, Path])[], strict?: readonly [unknown, Path]): TaskSetup {
  const issues: ValidationIssue[] = [];
  const tasks = ctx.hooks.tasks;
  const refuse = (path: Path, what: string) => issues.push({ path: [...path], code: 'feature_required', message: `${what} need the tasks() feature from @crmkit/core/tasks` });
  if (strict && strict[0] === true && !tasks) refuse(strict[1], 'strict pipelines');
  const templates = lists.map(([raw, path]) => {
    if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) return undefined;
    if (!tasks) return void refuse(path, 'task templates');
    const checked = tasks.parseTemplates(raw, ctx.hooks.assignment !== undefined);
    issues.push(...checked.issues.map((issue) => ({ ...issue, path: [...path, ...issue.path] })));
    return checked.value;
  });
  const refs: ReferenceCheck[] = [];
  templates.forEach((list, l) =>
    list?.forEach((template, i) => {
      if (template.assignee.kind === 'strategy') refs.push({ entity: 'assignmentStrategy', id: template.assignee.strategyId, path: [...lists[l]![1], i, 'assignee', 'strategyId'] });
    }),
  );
  return { issues, templates, refs };
}

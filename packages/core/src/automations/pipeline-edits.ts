import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import type { Operation } from '../crm/operation.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { AutomationRule, AutomationRuleDefinition } from './automation-schema.js';
import { allPipelines, allRules } from './automation-service.js';
import { checkRule, findCycle } from './check-rule.js';

/** What define would refuse in a rule, given the pipelines: its stage-aware checks and, for stage triggers, a cycle. */
function problems(rule: AutomationRule, rules: readonly AutomationRule[], pipelines: readonly Pipeline[], stageTasks: boolean): string[] {
  const out = checkRule(rule as unknown as AutomationRuleDefinition, pipelines, { stageTasks }).map((i) => `${i.path.join('.')}: ${i.message}`);
  // Only edges into a stage trigger (a timeInStage rule counts from a stage entry) follow the pipelines: a
  // cycle an edit makes passes through such a rule.
  const cycle = 'stage' in rule.trigger ? findCycle(rule, rules, pipelines) : undefined;
  return cycle ? [...out, `the rules would trigger each other in a loop: ${cycle.join(' → ')}`] : out;
}

/**
 * Refuses a pipeline edit that would leave an enabled rule failing define's checks: a stage its
 * trigger, conditions or `advance` name removed, a move the new stage order, settings (skips, moving
 * back, lost reasons) or stage rules forbid, a loop the new order makes. An enabled rule always passes
 * them against the pipelines as they are; a disabled one is checked again by `enable`. Problems the
 * rule had before the edit are not held against it.
 *
 * @param next The pipeline as the edit would store it (replacing the stored one with its id, or new).
 * @param context The pipeline operation (`pipelines.removeStage`), for the error.
 * @throws CrmError `VALIDATION` with one issue (code `in_use`) per problem, naming the rule and its part.
 */
export async function checkPipelineEdit(op: Operation, next: Pipeline, context: string): Promise<void> {
  // Held until commit, as define holds it: a rule defined meanwhile is checked against this edit's result.
  await op.tx.nextSequence('automationRules', op.tenantId, 1);
  const rules = (await allRules(op)).filter((r) => r.enabled);
  if (!rules.length) return;
  const before = await allPipelines(op);
  const after = [...before.filter((p) => p.id !== next.id), next];
  const stageTasks = Boolean(op.ctx.hooks.tasks);
  const issues: ValidationIssue[] = [];
  for (const rule of rules) {
    const broken = problems(rule, rules, after, stageTasks);
    if (!broken.length) continue;
    const known = new Set(problems(rule, rules, before, stageTasks));
    for (const problem of broken) {
      if (!known.has(problem)) issues.push({ path: [], code: 'in_use', message: `automation rule "${rule.name}" (${rule.id}) would break — ${problem}; edit or disable the rule first` });
    }
  }
  if (issues.length) throw validationError(context, issues);
}

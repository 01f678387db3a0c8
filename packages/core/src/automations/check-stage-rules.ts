import type { ValidationIssue } from '../errors/crm-error.js';
import { testCondition } from '../domain/funnel/conditions.js';
import type { Pipeline, Stage, StageRule } from '../schema/pipeline.js';
import type { AutomationAction, AutomationTrigger } from './automation-schema.js';

/** What the rule itself has made true of the deal so far (reset by a wait: others may act meanwhile). */
interface Known {
  /** Field values the rule's own `updateFields` set. */
  values: Record<string, unknown>;
  /** The rule created a required task in the current stage visit (or the stage's templates did on entry). */
  openRequiredTask: boolean;
}

const hasRequiredTemplate = (stage: Stage) => (stage.taskTemplates as readonly { required?: boolean }[]).some((t) => t.required === true);

/**
 * What each stage rule kind reads, as one field path and a test of its value: `field` rules name
 * theirs, the shorthands stand for a fixed field. Typed over every kind, so a new kind must say here
 * what it reads (`undefined`: not a deal field — `requiredTasksDone` is tracked apart).
 */
const READS: { [K in StageRule['type']]: ((rule: Extract<StageRule, { type: K }>) => [string, (deal: Record<string, unknown>) => boolean]) | undefined } = {
  field: (rule) => [rule.field, (deal) => testCondition(deal, rule.field, rule.op, rule.value as never)],
  hasContact: () => ['contactId', (deal) => Boolean(deal['contactId'])],
  hasCompany: () => ['companyId', (deal) => Boolean(deal['companyId'])],
  hasLineItems: () => ['lineItems', (deal) => Array.isArray(deal['lineItems']) && deal['lineItems'].length > 0],
  // A rule that also sets line items derives the amount from them: only the stored deal can tell.
  amountPositive: () => ['value.amount', (deal) => 'lineItems' in deal || !(((deal['value'] as { amount?: number } | undefined)?.amount ?? 1) <= 0)],
  requiredTasksDone: undefined,
};

/** A stage rule the known state breaks for sure (`undefined`: it holds, or only the stored deal can tell). */
function broken(rule: StageRule, known: Known): string | undefined {
  if (rule.type === 'requiredTasksDone') return known.openRequiredTask ? 'a required task the rule (or the stage’s task templates) just created is still open' : undefined;
  const [field, holds] = (READS[rule.type] as (r: StageRule) => [string, (deal: Record<string, unknown>) => boolean])(rule);
  const root = Object.keys(known.values).find((k) => field === k || field.startsWith(`${k}.`));
  if (root === undefined) return undefined;
  const target: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(known.values)) {
    const parts = key.split('.');
    let at = target;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = value;
  }
  return holds(target) ? undefined : `the rule sets ${root} to ${JSON.stringify(known.values[root])}`;
}

/**
 * Follows a rule's funnel moves through each pipeline it can run in, from the stage its trigger puts
 * the deal in (any stage, for a trigger that fixes none: then only what needs no source stage is
 * judged — a target's entry rules — until a move fixes the stage), and reports every move that the pipeline's rules refuse whatever the stored deal holds:
 * a skip or a move back the pipeline forbids, and exit / entry rules the rule's own earlier actions
 * break (a field it set to a value the rule refuses; a required task it created — or the stage's
 * templates created on entry — that is still open when it moves on). Anything that depends on the
 * stored deal is left to the run, which then fails with the funnel's `RULE_VIOLATION` in the run log.
 *
 * @param stageTasks The tasks feature is on: entering a stage creates its templates' tasks.
 */
export function stageRuleIssues(trigger: AutomationTrigger, actions: readonly AutomationAction[], pipelines: readonly Pipeline[], stageTasks: boolean): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const issue = (path: (string | number)[], message: string) => {
    const key = `${path.join('.')} ${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    issues.push({ path, code: 'stage_rule', message });
  };
  const start = trigger.type === 'stageEntered' || trigger.type === 'timeInStage' ? trigger.stage : undefined;
  const scoped = 'pipelineId' in trigger && trigger.pipelineId ? pipelines.filter((p) => p.id === trigger.pipelineId) : pipelines;
  for (const pipeline of scoped) {
    // `null`: some stage the trigger does not fix; `undefined`: the deal is closed (nothing moves it on).
    let current: Stage | null | undefined = start === undefined ? null : pipeline.stages.find((s) => s.key === start && s.kind === 'open');
    if (current === undefined) continue;
    // Entering the stage just now created its templates' tasks; after N days in it they may be done.
    const known: Known = { values: {}, openRequiredTask: trigger.type === 'stageEntered' && stageTasks && hasRequiredTemplate(current!) };
    const name = `pipeline "${pipeline.name}"`;
    for (let i = 0; i < actions.length && current !== undefined; i++) {
      const action = actions[i]!;
      const path = ['actions', i];
      if (action.type === 'wait') {
        known.values = {};
        known.openRequiredTask = false;
      } else if (action.type === 'updateFields') Object.assign(known.values, action.set);
      else if (action.type === 'createTask' && action.task.required) known.openRequiredTask = true;
      else if (action.type === 'advance' || action.type === 'lose') {
        const from: Stage | null = current;
        const open = pipeline.stages.filter((s) => s.kind === 'open');
        const target: Stage | null | undefined = action.type === 'lose' ? pipeline.stages.find((s) => s.kind === 'lost') : action.toStage ? pipeline.stages.find((s) => s.key === action.toStage) : from && open[open.indexOf(from) + 1];
        // A plain advance from a stage not known leads to one not known.
        if (target === null) continue;
        if (!target && from && action.type === 'advance' && !action.toStage) {
          issue(path, `${name}: "${from.key}" is its last open stage, so advance has no next stage (use win, lose or advance with toStage)`);
          break;
        }
        if (!target || (action.type === 'advance' && target.kind !== 'open')) break; // reported by checkRule (unknown or closing stage)
        const forward = from && (action.type === 'lose' || pipeline.stages.indexOf(target) > pipeline.stages.indexOf(from));
        if (from && action.type === 'advance') {
          const fromIndex = open.indexOf(from);
          const toIndex = open.indexOf(target);
          if (toIndex === fromIndex) issue([...path, 'toStage'], `${name}: the deal is already in "${target.key}" here (stage.same)`);
          if (toIndex < fromIndex && !pipeline.settings.allowBackward) issue([...path, 'toStage'], `${name} does not allow moving back from "${from.key}" to "${target.key}" (pipeline.noBackward)`);
          if (toIndex > fromIndex + 1 && !pipeline.settings.allowSkip) issue([...path, 'toStage'], `${name} does not allow skipping from "${from.key}" to "${target.key}" (pipeline.noSkip)`);
        }
        if (forward) {
          for (const rule of from.exitRules) {
            const why = broken(rule, known);
            if (why) issue(path, `${name}: leaving "${from.key}" needs stage.exit.${rule.type}${rule.type === 'field' ? ` (${rule.field} ${rule.op}${rule.value !== undefined ? ` ${JSON.stringify(rule.value)}` : ''})` : ''}, but ${why}`);
          }
        }
        for (const rule of target.entryRules) {
          const why = broken(rule, { ...known, openRequiredTask: false });
          if (why) issue(path, `${name}: entering "${target.key}" needs stage.entry.${rule.type}${rule.type === 'field' ? ` (${rule.field} ${rule.op}${rule.value !== undefined ? ` ${JSON.stringify(rule.value)}` : ''})` : ''}, but ${why}`);
        }
        current = target.kind === 'open' ? target : undefined;
        known.openRequiredTask = Boolean(current) && stageTasks && hasRequiredTemplate(target);
      }
    }
  }
  return issues;
}

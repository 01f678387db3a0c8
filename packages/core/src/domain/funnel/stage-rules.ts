import type { RuleViolation } from '../../errors/crm-error.js';
import type { Deal } from '../../schema/deal.js';
import type { Stage, StageRule } from '../../schema/pipeline.js';
import type { Task } from '../../schema/task.js';
import { testCondition } from './conditions.js';

/** What rules may look at besides the deal. */
export interface RuleContext {
  /** Tasks created in the deal's current stage visit (for `requiredTasksDone`). */
  readonly stageTasks: readonly Task[];
}

function describeFieldRule(rule: Extract<StageRule, { type: 'field' }>): string {
  if (rule.op === 'present') return `${rule.field} must be filled in`;
  const value = Array.isArray(rule.value) ? rule.value.join(', ') : String(rule.value);
  const words: Record<string, string> = { eq: 'equal', ne: 'differ from', in: 'be one of', gt: 'be greater than', gte: 'be at least', lt: 'be less than', lte: 'be at most' };
  return `${rule.field} must ${words[rule.op]} ${value}`;
}

/**
 * Checks one stage rule against a deal. Returns the violation, or `undefined` when it holds.
 * `phase` says whether the rule guards entering or leaving `stage`; it is part of the rule id
 * (`stage.entry.hasContact`) so UIs can explain which side blocked.
 */
export function checkStageRule(rule: StageRule, deal: Deal, stage: Stage, phase: 'entry' | 'exit', context: RuleContext): RuleViolation | undefined {
  const violation = (message: string, data: Record<string, unknown> = {}): RuleViolation => ({
    rule: `stage.${phase}.${rule.type}`,
    message: rule.message ?? message,
    data: { stage: stage.key, ...data },
  });
  switch (rule.type) {
    case 'field':
      return testCondition(deal, rule.field, rule.op, rule.value)
        ? undefined
        : violation(describeFieldRule(rule), { field: rule.field, op: rule.op, ...(rule.value !== undefined ? { value: rule.value } : {}) });
    case 'hasContact':
      return deal.contactId ? undefined : violation('the deal needs a contact');
    case 'hasCompany':
      return deal.companyId ? undefined : violation('the deal needs a company');
    case 'hasLineItems':
      return deal.lineItems.length > 0 ? undefined : violation('the deal needs line items');
    case 'amountPositive':
      return deal.value.amount > 0 ? undefined : violation('the deal amount must be greater than 0');
    case 'requiredTasksDone': {
      const pending = context.stageTasks.filter((t) => t.required && t.status === 'open');
      return pending.length === 0
        ? undefined
        : violation(`required tasks are not done: ${pending.map((t) => t.subject).join(', ')}`, { taskIds: pending.map((t) => t.id) });
    }
  }
}

/** Checks every rule of a list and returns all violations. */
export function checkStageRules(rules: readonly StageRule[], deal: Deal, stage: Stage, phase: 'entry' | 'exit', context: RuleContext): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const rule of rules) {
    const v = checkStageRule(rule, deal, stage, phase, context);
    if (v) out.push(v);
  }
  return out;
}

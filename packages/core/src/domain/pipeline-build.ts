import type { ValidationIssue } from '../errors/crm-error.js';
import {
  DEFAULT_LOST_REASONS,
  type PipelineSettings,
  type PipelineSettingsInput,
  type Stage,
  type StageInput,
  type TaskTemplate,
} from '../schema/pipeline.js';
import { canonicalTime, timeOfField } from './funnel/time-values.js';

/**
 * Turns stage inputs into stages: fills defaults (open-stage probabilities rising with order, won = 100,
 * lost = 0), appends `won` and `lost` stages when the input has none, and reports inconsistencies.
 * `isDealField` tells which fields a field rule may test (the caller knows the deal's queryable fields).
 */
export function buildStages(
  inputs: readonly StageInput[],
  isDealField: (field: string) => boolean,
  path: (string | number)[] = ['stages'],
): { stages: Stage[]; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const openCount = inputs.filter((s) => (s.kind ?? 'open') === 'open').length;
  let openIndex = 0;
  const stages: Stage[] = inputs.map((input, i) => {
    const kind = input.kind ?? 'open';
    if (seen.has(input.key)) issues.push({ path: [...path, i, 'key'], code: 'duplicate', message: `stage key "${input.key}" is used twice` });
    seen.add(input.key);
    let probability: number;
    if (kind === 'won') {
      if (input.probability !== undefined && input.probability !== 100) {
        issues.push({ path: [...path, i, 'probability'], code: 'invalid_value', message: 'a won stage has probability 100' });
      }
      probability = 100;
    } else if (kind === 'lost') {
      if (input.probability !== undefined && input.probability !== 0) {
        issues.push({ path: [...path, i, 'probability'], code: 'invalid_value', message: 'a lost stage has probability 0' });
      }
      probability = 0;
    } else {
      openIndex++;
      probability = input.probability ?? Math.round((100 * openIndex) / (openCount + 1));
    }
    const entryRules = (input.entryRules ?? []).map((rule, r) => checkRuleField(rule, isDealField, [...path, i, 'entryRules', r], issues));
    const exitRules = (input.exitRules ?? []).map((rule, r) => checkRuleField(rule, isDealField, [...path, i, 'exitRules', r], issues));
    return {
      key: input.key,
      name: input.name,
      probability,
      kind,
      ...(input.rottenDays !== undefined ? { rottenDays: input.rottenDays } : {}),
      entryRules,
      exitRules,
      // Checked and completed with defaults by the tasks feature before the stage is built.
      taskTemplates: (input.taskTemplates ?? []) as TaskTemplate[],
    };
  });
  if (openCount === 0) issues.push({ path, code: 'invalid_value', message: 'a pipeline needs at least one open stage' });
  if (!stages.some((s) => s.kind === 'won') && !seen.has('won')) stages.push(terminalStage('won', 'Won', 'won', 100));
  if (!stages.some((s) => s.kind === 'lost') && !seen.has('lost')) stages.push(terminalStage('lost', 'Lost', 'lost', 0));
  if (!stages.some((s) => s.kind === 'won') || !stages.some((s) => s.kind === 'lost')) {
    issues.push({ path, code: 'invalid_value', message: 'a pipeline needs a won and a lost stage (keys "won"/"lost" are taken by open stages)' });
  }
  return { stages, issues };
}

function terminalStage(key: string, name: string, kind: 'won' | 'lost', probability: number): Stage {
  return { key, name, kind, probability, entryRules: [], exitRules: [], taskTemplates: [] };
}

/** Checks a stage rule; a field rule comes back with its time values in stored form (`canonicalTime`). */
function checkRuleField(rule: Stage['entryRules'][number], isDealField: (field: string) => boolean, path: (string | number)[], issues: ValidationIssue[]): Stage['entryRules'][number] {
  if (rule.type !== 'field') return rule;
  if (!isDealField(rule.field)) issues.push({ path: [...path, 'field'], code: 'unknown_field', message: `"${rule.field}" is not a deal field` });
  const needsValue = rule.op !== 'present';
  if (needsValue && rule.value === undefined) issues.push({ path: [...path, 'value'], code: 'required', message: `required for op "${rule.op}"` });
  if (rule.op === 'in' && rule.value !== undefined && !Array.isArray(rule.value)) {
    issues.push({ path: [...path, 'value'], code: 'invalid_type', message: 'must be a list for op "in"' });
  }
  if (rule.op !== 'in' && Array.isArray(rule.value)) {
    issues.push({ path: [...path, 'value'], code: 'invalid_type', message: `must be a single value for op "${rule.op}"` });
  }
  if (rule.value === undefined) return rule;
  // Stored times compare as text: a bound in another spelling (an offset, no milliseconds) would compare wrongly.
  const kind = timeOfField(rule.field);
  const ordering = rule.op !== 'eq' && rule.op !== 'ne' && rule.op !== 'in';
  const values = (Array.isArray(rule.value) ? rule.value : [rule.value]).map((v, n) => {
    const { value, problem } = canonicalTime(v, kind, ordering);
    if (problem) issues.push({ path: [...path, 'value', ...(Array.isArray(rule.value) ? [n] : [])], code: 'invalid_value', message: problem });
    return value as typeof v;
  });
  return { ...rule, value: Array.isArray(rule.value) ? values : values[0] };
}

/** Pipeline settings with defaults filled in. */
export function buildSettings(input: PipelineSettingsInput | undefined, previous?: PipelineSettings): PipelineSettings {
  return {
    allowSkip: input?.allowSkip ?? previous?.allowSkip ?? true,
    allowBackward: input?.allowBackward ?? previous?.allowBackward ?? true,
    strictNextStep: input?.strictNextStep ?? previous?.strictNextStep ?? false,
    lostReasons: (input?.lostReasons ?? previous?.lostReasons ?? DEFAULT_LOST_REASONS).map((r) => ({
      key: r.key,
      label: r.label,
      requiresComment: r.requiresComment ?? false,
    })),
  };
}

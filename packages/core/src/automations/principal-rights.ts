import type { AccessAction, AccessGuard } from '../crm/access-guard.js';
import type { ValidationIssue } from '../errors/crm-error.js';
import type { AutomationRuleDefinition } from './automation-schema.js';

/** The grant each action needs from the service principal: on the rule's record, or on the record it creates. */
const NEEDS: Readonly<Record<string, readonly [AccessAction, string?]>> = {
  createTask: ['create', 'task'],
  logActivity: ['create', 'activity'],
  advance: ['advance'],
  lose: ['lose'],
  updateFields: ['update'],
  addTag: ['update'],
  removeTag: ['update'],
  assignOwner: ['update'],
};

/**
 * What the service principal's access policy refuses whatever the record (runs act as it): reading the
 * rule's records at all (every run would be skipped), an action no role of it is granted, a field an
 * action writes that it may not write. Each issue has code `forbidden` at the path of what needs the right.
 *
 * @param entity The record type the rule runs for.
 * @param guard The service principal's access rules (`undefined`: no policy, nothing to refuse).
 * @returns The issues (paths into the rule).
 */
export function rightsIssues(def: AutomationRuleDefinition, entity: string, guard: AccessGuard | undefined): ValidationIssue[] {
  if (!guard) return [];
  const issues: ValidationIssue[] = [];
  const refuse = (path: (string | number)[], what: string) => issues.push({ path, code: 'forbidden', message: `the service principal "${guard.principal.userId}" may not ${what} (access policy): it would fail on every run` });
  if (!guard.granted(entity, 'read')) refuse(['trigger'], `read ${entity} records`);
  def.actions.forEach((action, i) => {
    const [needed, target = entity] = NEEDS[action.type] ?? [];
    // Assigning by strategy is its own right (`assign`); the strategy picks the owner.
    const right = action.type === 'assignOwner' && action.strategyId ? 'assign' : needed;
    if (right && !guard.granted(target, right)) return refuse(['actions', i, 'type'], `${right} ${target} records`);
    const writes: [field: string, path: (string | number)[]][] =
      action.type === 'updateFields'
        ? Object.entries(action.set).flatMap(([key, value]) => (key === 'custom' && value && typeof value === 'object' ? Object.keys(value).map((k) => [`custom.${k}`, ['set', 'custom', k]] as [string, string[]]) : [[key, ['set', key]] as [string, string[]]]))
        : action.type === 'addTag' || action.type === 'removeTag'
          ? [['tags', ['tag']]]
          : action.type === 'assignOwner' && action.userId
            ? [['ownerId', ['userId']]]
            : [];
    for (const [field, path] of writes) {
      try {
        guard.checkWriteFields(target, [field], 'automations');
      } catch {
        refuse(['actions', i, ...path], `write ${field} of ${target} records`);
      }
    }
  });
  return issues;
}

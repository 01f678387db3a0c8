import type { RuleFieldOp } from '../../schema/pipeline.js';
import { compareValues } from '../../query/compare.js';
import { getPath } from '../../query/path.js';

type ConditionValue = string | number | boolean | readonly (string | number | boolean)[] | undefined;

/** A value counts as present when it is not missing, null, blank text or an empty list. */
export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim().length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/**
 * Tests `record[field] op value`, the comparison of stage rules and assignment rules.
 * Ordering ops need a present value of the same type; `eq`/`ne`/`in` on a list field test membership.
 */
export function testCondition(record: unknown, field: string, op: RuleFieldOp, value: ConditionValue): boolean {
  const actual = getPath(record, field);
  if (op === 'present') return isPresent(actual);
  const list = Array.isArray(actual) ? (actual as unknown[]) : undefined;
  const equals = (expected: unknown) => (list ? list.includes(expected) : actual === expected);
  switch (op) {
    case 'eq':
      return equals(value);
    case 'ne':
      return !equals(value);
    case 'in':
      return Array.isArray(value) && value.some(equals);
    default: {
      if (actual === null || actual === undefined || Array.isArray(value) || typeof actual !== typeof value) return false;
      const c = compareValues(actual, value);
      return op === 'gt' ? c > 0 : op === 'gte' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
    }
  }
}

import type { core } from 'zod/mini';
import type { ValidationIssue } from './crm-error.js';

/**
 * Turns zod issues into crmkit issues with English messages.
 * zod/mini ships without locale messages (to keep bundles small), so the wording lives here.
 */
export function fromZodIssues(issues: readonly core.$ZodIssue[], prefix: readonly (string | number)[] = []): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], code: 'unknown_field', message: `unknown field "${key}"` });
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest: the one with the fewest issues.
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      const inner = fromZodIssues(best, path);
      if (inner.length > 0 && !('discriminator' in issue)) {
        out.push(...inner);
        continue;
      }
    }
    // A refinement's issue is zod's `custom`, which says nothing a caller can branch on: a value the check
    // refuses (`invalid_value`), or the code it names (`params.code`, e.g. `duplicate`).
    out.push({ path, code: issue.code === 'custom' ? ((issue.params?.code as string | undefined) ?? 'invalid_value') : issue.code, message: issue.message && issue.message !== 'Invalid input' ? issue.message : describe(issue) });
  }
  return out;
}

const items = (n: number | bigint) => `${String(n)} item${Number(n) === 1 ? '' : 's'}`;

function describe(issue: core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `required ${issue.expected}` : `expected ${issue.expected}, got ${typeName(issue.input)}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${String(issue.maximum)} characters`
        : issue.origin === 'array' || issue.origin === 'set'
          ? `must have at most ${items(issue.maximum)}`
          : `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
    case 'too_small':
      return issue.origin === 'string'
        ? Number(issue.minimum) === 1
          ? 'must not be empty'
          : `must be at least ${String(issue.minimum)} characters`
        : issue.origin === 'array' || issue.origin === 'set'
          ? `must have at least ${items(issue.minimum)}`
          : `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
    case 'invalid_format':
      return issue.format === 'regex' ? 'has an invalid format' : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'matches none of the allowed shapes';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    default:
      return 'is invalid';
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return String(value);
  }
  return typeof value;
}

import type { ValidationIssue } from '../errors/crm-error.js';
import type { CustomFieldDefinition, CustomFieldValue } from '../schema/custom-field.js';
import type { FieldType } from '../query/field-type.js';
import { isIsoCurrency } from './iso-4217.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_TEXT = 2_000;

function isValidIsoDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

function checkValue(def: CustomFieldDefinition, value: unknown, path: (string | number)[], issues: ValidationIssue[]): void {
  const fail = (message: string, code = 'invalid_type'): void => void issues.push({ path, code, message });
  switch (def.type) {
    case 'text':
      if (typeof value !== 'string') return fail('must be text');
      if (value.length > MAX_TEXT) return fail(`must be at most ${MAX_TEXT} characters`, 'too_big');
      if (value.includes('\u0000')) return fail('must not contain NUL characters', 'invalid_format');
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail('must be a finite number');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') return fail('must be true or false');
      return;
    case 'date':
      if (typeof value !== 'string' || !isValidIsoDate(value)) return fail('must be a date YYYY-MM-DD', 'invalid_format');
      return;
    case 'select':
      if (typeof value !== 'string') return fail('must be one of the options');
      if (!def.options?.some((o) => o.value === value)) return fail(`"${value.slice(0, 100)}" is not an option of ${def.key}`, 'invalid_value');
      return;
    case 'multiselect': {
      if (!Array.isArray(value)) return fail('must be a list of options');
      if (value.length > 100) return fail('must have at most 100 items', 'too_big');
      const seen = new Set<string>();
      value.forEach((item: unknown, i) => {
        if (typeof item !== 'string' || !def.options?.some((o) => o.value === item)) {
          issues.push({ path: [...path, i], code: 'invalid_value', message: `is not an option of ${def.key}` });
        } else if (seen.has(item)) {
          issues.push({ path: [...path, i], code: 'duplicate', message: 'is listed twice' });
        } else seen.add(item);
      });
      return;
    }
    case 'money': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('must be { amount, currency }');
      const keys = Object.keys(value);
      const extra = keys.filter((k) => k !== 'amount' && k !== 'currency');
      if (extra.length) return fail(`unknown field "${extra[0]}"`, 'unknown_field');
      const { amount, currency } = value as { amount?: unknown; currency?: unknown };
      if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) {
        issues.push({ path: [...path, 'amount'], code: 'invalid_type', message: 'must be an integer number of minor units' });
      }
      if (typeof currency !== 'string' || !isIsoCurrency(currency)) {
        issues.push({ path: [...path, 'currency'], code: 'invalid_format', message: 'must be an ISO 4217 code like "EUR"' });
      } else if (def.currency && currency !== def.currency) {
        issues.push({ path: [...path, 'currency'], code: 'invalid_value', message: `must be ${def.currency}` });
      }
      return;
    }
  }
}

/**
 * Checks custom values against the entity's definitions and returns the merged values.
 * - Unknown keys and archived fields are rejected (`unknown_field`).
 * - In a patch (`existing` given), `null` removes a value.
 * - Required fields must hold a value after the change.
 */
export function applyCustomValues(
  definitions: readonly CustomFieldDefinition[],
  input: Readonly<Record<string, unknown>> | undefined,
  existing: Readonly<Record<string, CustomFieldValue>> | undefined,
  path: (string | number)[] = ['custom'],
): { values: Record<string, CustomFieldValue>; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const byKey = new Map(definitions.map((d) => [d.key, d]));
  const values: Record<string, CustomFieldValue> = { ...(existing ?? {}) };
  for (const key of Object.keys(input ?? {})) {
    const value = (input as Record<string, unknown>)[key];
    const def = byKey.get(key);
    if (!def || def.archived) {
      issues.push({ path: [...path, key], code: 'unknown_field', message: `"${key.slice(0, 100)}" is not a custom field of this entity` });
      continue;
    }
    if (value === null && existing !== undefined) {
      delete values[key];
      continue;
    }
    const before = issues.length;
    checkValue(def, value, [...path, key], issues);
    if (issues.length === before) values[key] = value as CustomFieldValue;
  }
  for (const def of definitions) {
    // Own properties only: a field keyed `toString` must not find Object.prototype.toString.
    if (def.required && !def.archived && !Object.prototype.hasOwnProperty.call(values, def.key)) {
      issues.push({ path: [...path, def.key], code: 'required', message: `${def.label} is required` });
    }
  }
  return { values, issues };
}

/** The query type of a custom-field path (`custom.budget`, `custom.budget.amount`), or `undefined`. */
export function customFieldQueryType(definitions: readonly CustomFieldDefinition[], path: string): FieldType | undefined {
  const [, key, sub] = path.split('.');
  const def = definitions.find((d) => d.key === key);
  if (!def || path.split('.').length > 3) return undefined;
  if (def.type === 'money') return sub === 'amount' ? 'number' : sub === 'currency' ? 'string' : undefined;
  if (sub !== undefined) return undefined;
  switch (def.type) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'multiselect':
      return 'string[]';
    default:
      return 'string';
  }
}

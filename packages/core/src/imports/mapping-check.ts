import { validationError, type ValidationIssue } from '../errors/crm-error.js';

const KINDS = new Set(['text', 'number', 'integer', 'money', 'date', 'datetime', 'boolean', 'list']);
const STRINGS = ['column', 'join', 'currency', 'currencyColumn', 'separator'] as const;
const FUNCTIONS = ['transform', 'format'] as const;
/** A column name: not empty or blank (CSV header names are trimmed, so no header cell could match it; every row would miss the field). */
const blank = (name: unknown) => typeof name === 'string' && !/\S/.test(name);
const EMPTY = 'a column name must not be empty';
/** Path segments that would reach an object's prototype when a row is built (`__proto__.x` pollutes every object). */
const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const SPEC_KEYS = new Set(['column', 'columns', 'join', 'value', 'as', 'namePart', 'currency', 'currencyColumn', 'separator', 'required', 'default', 'transform', 'format']);

/**
 * Checks every column spec of a mapping (shape of each option), so a typo such as `as: 'nubmer'`
 * fails the run with `VALIDATION` before a row is read instead of a TypeError mid-run.
 */
export function checkMappingSpecs(mapping: Readonly<Record<string, unknown>>, context: string): void {
  const issues: ValidationIssue[] = [];
  const bad = (path: (string | number)[], code: string, message: string) => issues.push({ path: ['mapping', ...path], code, message });
  for (const [field, raw] of Object.entries(mapping)) {
    if (field.split('.').some((segment) => segment === '' || UNSAFE_SEGMENTS.has(segment))) {
      bad([field], 'invalid_value', 'a mapped field is a dotted path of field names; empty segments and __proto__, constructor or prototype are refused');
      continue;
    }
    if (typeof raw === 'string') {
      if (blank(raw)) bad([field], 'invalid_value', EMPTY);
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      bad([field], 'invalid_type', 'give a column name, or { column | columns | value, … }');
      continue;
    }
    const spec = raw as Record<string, unknown>;
    for (const k of Object.keys(spec)) if (!SPEC_KEYS.has(k)) bad([field, k], 'unknown_field', `unknown column option "${k.slice(0, 50)}"`);
    for (const k of STRINGS) if (spec[k] !== undefined && typeof spec[k] !== 'string') bad([field, k], 'invalid_type', 'must be a string');
    for (const k of FUNCTIONS) if (spec[k] !== undefined && typeof spec[k] !== 'function') bad([field, k], 'invalid_type', 'must be a function');
    if (spec.columns !== undefined && !(Array.isArray(spec.columns) && spec.columns.length > 0 && spec.columns.every((c) => typeof c === 'string'))) bad([field, 'columns'], 'invalid_type', 'must be a non-empty array of column names');
    else if ((spec.columns as unknown[] | undefined)?.some(blank)) bad([field, 'columns'], 'invalid_value', EMPTY);
    for (const k of ['column', 'currencyColumn'] as const) if (blank(spec[k])) bad([field, k], 'invalid_value', EMPTY);
    if (spec.as !== undefined && !KINDS.has(spec.as as string)) bad([field, 'as'], 'invalid_value', `must be one of ${[...KINDS].join(', ')}`);
    if (spec.namePart !== undefined && spec.namePart !== 'first' && spec.namePart !== 'last') bad([field, 'namePart'], 'invalid_value', 'must be first or last');
    // An empty separator or join splits nothing apart (and would never advance a split).
    for (const k of ['separator', 'join'] as const) if (spec[k] === '') bad([field, k], 'invalid_value', 'must not be empty');
    if (spec.required !== undefined && typeof spec.required !== 'boolean') bad([field, 'required'], 'invalid_type', 'must be true or false');
    // Money is an amount and a currency: without one no cell reads back (every row would fail "no ISO 4217 currency").
    if (spec.as === 'money' && spec.currency === undefined && spec.currencyColumn === undefined && spec.transform === undefined && spec.format === undefined) bad([field, 'currency'], 'required', 'money needs a currency or a currencyColumn');
    // The amount's own cell cannot hold its currency too (import and export).
    if (spec.currencyColumn !== undefined && (spec.currencyColumn === spec.column || (spec.columns as unknown[] | undefined)?.includes(spec.currencyColumn))) bad([field], 'duplicate_column', 'the currencyColumn must be another column than the amount');
    if (spec.column === undefined && spec.columns === undefined && spec.value === undefined) bad([field], 'invalid_value', 'give a column name, or { column | columns | value, … }');
  }
  if (issues.length) throw validationError(context, issues);
}

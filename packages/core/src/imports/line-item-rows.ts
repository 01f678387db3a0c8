import type { ValidationIssue } from '../errors/crm-error.js';
import { lineItemInputSchema } from '../schema/deal.js';
import { LIMITS } from '../schema/primitives.js';

/** A row of one order line, mapped: the deal's fields with `lineItems` holding this row's line. */
export interface MappedRow {
  readonly row: number;
  readonly input: Record<string, unknown>;
  readonly issues: readonly ValidationIssue[];
}

/** Most rows one deal's group may have: a deal holds at most this many line items (`LIMITS.lineItems`). */
export const MAX_GROUP_ROWS = LIMITS.lineItems;

/** The `lineItems.<field>` names a mapping may use (the line-item schema's fields) and those a line needs. */
export const LINE_FIELDS = Object.keys(lineItemInputSchema.shape);
export const REQUIRED_LINE_FIELDS = LINE_FIELDS.filter((f) => (lineItemInputSchema.shape as Record<string, { _zod: { optin?: string } }>)[f]!._zod.optin !== 'optional');

/** Leaf path → JSON of the value (money and custom values compare by their parts). */
function leaves(value: Record<string, unknown>, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) leaves(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out.set(prefix + k, JSON.stringify(v));
  }
  return out;
}

/**
 * One deal's input from the consecutive rows of an order: the deal's fields from its first row, a line
 * per row. A later row's deal cell must be empty or equal the first row's (exports repeat them or leave
 * them blank); one that differs fails the group (`group_mismatch`, at that row). A `unitPrice` read
 * `as: 'money'` gives the deal its currency when none is mapped.
 *
 * @returns The merged input, each row's own problems, and the row of each line (line index → row).
 */
export function mergeGroup(rows: readonly MappedRow[]): { input: Record<string, unknown>; issues: Map<number, ValidationIssue[]>; lineRows: number[] } {
  const first = rows[0]!;
  const { lineItems: _line, ...base } = first.input;
  const want = leaves(base);
  const lines: unknown[] = [];
  const lineRows: number[] = [];
  const issues = new Map<number, ValidationIssue[]>();
  for (const r of rows) {
    const { lineItems, ...deal } = r.input;
    const own = [...r.issues];
    for (const [path, json] of leaves(deal)) {
      if (want.get(path) !== json) own.push({ path: path.split('.'), code: 'group_mismatch', message: `differs from row ${first.row}, the deal's first row (the rows of one deal repeat its cells or leave them empty)` });
    }
    if (lineItems !== undefined) {
      // A price read `as: 'money'` (localised) is in minor units of the deal's currency.
      const price = (lineItems as { unitPrice?: { amount?: number; currency?: string } }).unitPrice;
      if (price?.currency) {
        const currency = (base.currency ??= price.currency);
        if (currency !== price.currency) own.push({ path: ['lineItems', 'unitPrice'], code: 'invalid_value', message: `is in ${price.currency}, the deal in ${String(currency)}` });
      }
      lines.push(price?.currency ? { ...lineItems, unitPrice: price.amount } : lineItems);
      lineRows.push(r.row);
    }
    if (own.length) issues.set(r.row, own);
  }
  return { input: { ...base, lineItems: lines }, issues, lineRows };
}

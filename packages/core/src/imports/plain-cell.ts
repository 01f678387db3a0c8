import type { ExternalRef } from '../schema/external-ref.js';
import { joinListCell } from './list-cells.js';

/**
 * A field's value as a cell, written by its kind: lists joined as the import splits them (`as: 'list'`),
 * `externalRefs` as `system:id` keys, objects (money, line items, participants) as JSON, the rest as it is.
 * The one writer of an export without a mapping and of a mapped column without `as`; `kindSpec` reads it back.
 */
export function plainCell(field: string, v: unknown): string | number | boolean | null {
  if (v === undefined || v === null) return null;
  if (field === 'externalRefs') return joinListCell((v as ExternalRef[]).map((r) => `${r.system}:${r.id}`), ',');
  if (Array.isArray(v)) return v.some((item) => typeof item === 'object' && item !== null) ? JSON.stringify(v) : joinListCell(v, ',');
  return typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
}

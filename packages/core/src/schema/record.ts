import * as z from 'zod/mini';
import { idSchema, tenantIdSchema, timestampSchema, int } from './primitives.js';

/** The fields every stored record carries (built on call, for the record schemas). */
export const recordBaseShape = () => ({
  id: idSchema,
  tenantId: tenantIdSchema,
  /** Optimistic-concurrency version: 1 on create, +1 on every change. */
  version: z.number().check(int(), z.gte(1)),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});

export interface RecordBase {
  readonly id: string;
  readonly tenantId: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The record kinds users address: a timeline, a task or an activity can point at any of them. */
export const RECORD_TYPES = ['lead', 'contact', 'company', 'deal'] as const;
export const recordTypeSchema = z.enum(RECORD_TYPES);
export type RecordType = (typeof RECORD_TYPES)[number];

/** A reference to a lead, contact, company or deal. */
export const recordRefSchema = z.strictObject({ type: recordTypeSchema, id: idSchema });
export type RecordRef = z.infer<typeof recordRefSchema>;

/** `deal:deal_01J…`: the string form of a ref, used in the event log's multi-entry index. */
export function refKey(ref: { readonly type: string; readonly id: string }): string {
  return `${ref.type}:${ref.id}`;
}

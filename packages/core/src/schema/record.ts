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
export const recordTypeSchema = /* @__PURE__ */ z.enum(RECORD_TYPES);
export type RecordType = (typeof RECORD_TYPES)[number];

/** A reference to a lead, contact, company or deal. */
export const recordRefSchema = /* @__PURE__ */ z.strictObject({ type: recordTypeSchema, id: idSchema });
export type RecordRef = z.infer<typeof recordRefSchema>;

/** `deal:deal_01J…`: the string form of a ref, used in the event log's multi-entry index. */
export function refKey(ref: { readonly type: string; readonly id: string }): string {
  return `${ref.type}:${ref.id}`;
}

/**
 * One explicit share of a record: `to` is `u:<userId>` or `t:<teamId>`; `write` also lets the
 * recipient change the record and move it through the funnel. Maintained by `crm.access.share`.
 */
export const shareSchema = z.strictObject({ to: z.string().check(z.regex(/^[ut]:[A-Za-z0-9._@:+-]{1,128}$/)), access: z.enum(['read', 'write']) });
export type Share = z.infer<typeof shareSchema>;

/** Sharing fields of the records users own (leads, contacts, companies, deals). */
export const sharedRecordShape = {
  /** Explicit shares of this record (see `crm.access.share`). */
  shares: /* @__PURE__ */ z.optional(z.array(shareSchema)),
  /** The `to` of every share: an indexed list, so "shared with me" is a pushed-down filter. Maintained by crmkit. */
  shareKeys: /* @__PURE__ */ z.optional(z.array(z.string())),
};

/**
 * Access fields of records that follow a parent (tasks, activities, stage visits): a copy of the
 * parent's owner and shares, maintained in the transaction that changes the parent, so "tasks of a
 * deal I can see" is a pushed-down filter.
 */
export const parentAccessShape = {
  /** `<parentType>:<parent ownerId>` (`deal:anna`; `deal:` for an unowned parent). Maintained by crmkit. */
  parentOwner: /* @__PURE__ */ z.optional(z.string()),
  /** The parent's `shareKeys`. Maintained by crmkit. */
  parentShareKeys: /* @__PURE__ */ z.optional(z.array(z.string())),
};

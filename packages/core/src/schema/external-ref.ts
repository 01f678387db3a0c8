import * as z from 'zod/mini';
import { NO_NUL } from './primitives.js';

/**
 * The name of another system a record is linked to (`shop`, `erp`, `stripe`): 1–64 letters, digits,
 * `.`, `_` or `-`, starting with a letter or digit. No `:`, so `<system>:<id>` names one key.
 */
export const externalSystemSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'));

/**
 * A record's id in another system, as that system writes it (`10042`, `CUST-7`, a UUID): 1–256
 * characters of storable text without surrounding whitespace (a trailing space from a CSV cell would
 * otherwise name a different record).
 */
export const externalIdSchema = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(256),
  z.regex(NO_NUL, 'must not contain NUL characters'),
  z.regex(/^\S(?:[\s\S]*\S)?$/, 'must not start or end with whitespace'),
);

/** A link from a crmkit record to the same thing in another system: `{ system: 'shop', id: '10042' }`. */
export const externalRefSchema = z.strictObject({ system: externalSystemSchema, id: externalIdSchema });
export type ExternalRef = z.infer<typeof externalRefSchema>;

/** A record's links to other systems (at most 20; one system may name several ids, e.g. after a merge). */
export const externalRefsSchema = z.array(externalRefSchema).check(z.maxLength(20));

/** The fields a record linked to other systems carries; `externalKeys` is maintained by crmkit. */
export const externalRefShape = {
  /** The record's ids in other systems; each `(system, id)` names at most one record of the entity per tenant. */
  externalRefs: /* @__PURE__ */ z.optional(externalRefsSchema),
  /** `<system>:<id>` of every external ref: the unique, indexed list lookups use. Maintained by crmkit. */
  externalKeys: /* @__PURE__ */ z.optional(z.array(z.string())),
};

/** The key of an external ref in `externalKeys`: `shop:10042`. */
export function externalKeyOf(ref: ExternalRef): string {
  return `${ref.system}:${ref.id}`;
}

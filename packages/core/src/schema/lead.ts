import * as z from 'zod/mini';
import { externalRefShape, externalRefsSchema } from './external-ref.js';
import {
  customValuesInputSchema,
  emailSchema,
  idSchema,
  LIMITS,
  moneySchema,
  optionalText,
  phoneSchema,
  probabilityInput,
  probabilitySchema,
  requiredText,
  tagsSchema,
  timestampSchema,
  userIdSchema,
  patchShape,
  countrySchema, int } from './primitives.js';
import { recordBaseShape, sharedRecordShape } from './record.js';
import type { CustomValues } from './custom-field.js';

export const LEAD_STATUSES = ['new', 'qualified', 'disqualified', 'converted'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** Fields a caller may set on a lead. */
const leadEditableShape = {
  /** Ids of this record in other systems (see `ExternalRef`). */
  externalRefs: z.optional(externalRefsSchema),
  /** The person behind the request. */
  name: requiredText(),
  companyName: optionalText(),
  email: z.optional(emailSchema),
  phone: z.optional(phoneSchema),
  website: optionalText(500),
  /** Short subject of the request ("Quote for 40 office chairs"). */
  title: optionalText(),
  /** The request itself, as the visitor wrote it. */
  message: optionalText(LIMITS.longText),
  /** Channel that brought the lead: `web-form`, `checkout`, `call`, `import`, … */
  source: optionalText(64),
  campaign: optionalText(128),
  country: z.optional(countrySchema),
  territory: optionalText(64),
  ownerId: z.optional(userIdSchema),
  expectedValue: z.optional(moneySchema),
  /** A manually set probability (0–100) that scoring never overwrites. */
  probability: z.optional(probabilityInput),
  tags: z.optional(tagsSchema),
  custom: z.optional(customValuesInputSchema),
};

export const leadCreateInputSchema = z.strictObject({ id: z.optional(idSchema), ...leadEditableShape });
export type LeadCreateInput = z.input<typeof leadCreateInputSchema>;


/** A patch: set a field to `null` to clear it. `version` makes the update conditional. */
export const leadUpdateInputSchema = z.strictObject({
  version: z.optional(z.number().check(int(), z.gte(1))),
  ...patchShape(leadEditableShape, ['tags', 'custom']),
});
export type LeadUpdateInput = z.input<typeof leadUpdateInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const leadSchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  ...leadEditableShape,
  status: z.enum(LEAD_STATUSES),
  tags: tagsSchema,
  custom: customValuesInputSchema,
  qualifiedAt: z.optional(timestampSchema),
  disqualifiedAt: z.optional(timestampSchema),
  disqualifyReason: optionalText(LIMITS.mediumText),
  convertedAt: z.optional(timestampSchema),
  /** What the lead became on conversion. */
  converted: z.optional(
    z.strictObject({ contactId: idSchema, companyId: z.optional(idSchema), dealId: z.optional(idSchema) }),
  ),
  /** Probability predicted by lead scoring (0–100); a manual `probability` is never overwritten. */
  predictedProbability: z.optional(probabilitySchema),
  /** Normalised keys for duplicate detection (`email:…`, `phone:…`, `domain:…`, `name:…`). Maintained by crmkit. */
  searchKeys: z.array(z.string()),
  ...sharedRecordShape,
  ...externalRefShape,
});

/** A lead: a potential client and the incoming request. */
export type Lead = Omit<z.infer<ReturnType<typeof leadSchema>>, 'custom'> & { readonly custom: CustomValues };

import * as z from 'zod/mini';
import { externalRefShape, externalRefsSchema } from './external-ref.js';
import {
  customValuesInputSchema,
  emailSchema,
  idSchema,
  LIMITS,
  optionalText,
  phoneSchema,
  requiredText,
  tagsSchema,
  timestampSchema,
  userIdSchema,
  patchShape,
  countrySchema, int } from './primitives.js';
import { recordBaseShape, sharedRecordShape } from './record.js';
import type { CustomValues } from './custom-field.js';


const contactEditableShape = {
  /** Ids of this record in other systems (see `ExternalRef`). */
  externalRefs: z.optional(externalRefsSchema),
  name: requiredText(),
  email: z.optional(emailSchema),
  phone: z.optional(phoneSchema),
  /** Job title at the company. */
  jobTitle: optionalText(),
  companyId: z.optional(idSchema),
  ownerId: z.optional(userIdSchema),
  source: optionalText(64),
  country: z.optional(countrySchema),
  notes: optionalText(LIMITS.longText),
  tags: z.optional(tagsSchema),
  custom: z.optional(customValuesInputSchema),
};

export const contactCreateInputSchema = z.strictObject({ id: z.optional(idSchema), ...contactEditableShape });
export type ContactCreateInput = z.input<typeof contactCreateInputSchema>;

export const contactUpdateInputSchema = z.strictObject({
  version: z.optional(z.number().check(int(), z.gte(1))),
  ...patchShape(contactEditableShape, ['tags', 'custom']),
});
export type ContactUpdateInput = z.input<typeof contactUpdateInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const contactSchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  ...contactEditableShape,
  tags: tagsSchema,
  custom: customValuesInputSchema,
  /** The lead this contact was converted from, whose history shows on the contact's timeline. */
  leadId: z.optional(idSchema),
  lastInteractionAt: z.optional(timestampSchema),
  searchKeys: z.array(z.string()),
  ...sharedRecordShape,
  ...externalRefShape,
});
/** A person: the client card. */
export type Contact = Omit<z.infer<ReturnType<typeof contactSchema>>, 'custom'> & { readonly custom: CustomValues };

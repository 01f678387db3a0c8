import * as z from 'zod/mini';
import { externalRefShape, externalRefsSchema } from './external-ref.js';
import {
  customValuesInputSchema,
  idSchema,
  LIMITS,
  optionalText,
  phoneSchema,
  requiredText,
  tagsSchema,
  timestampSchema,
  userIdSchema,
  patchShape,
  countrySchema,
  domainSchema,
  int,
} from './primitives.js';
import { recordBaseShape, sharedRecordShape } from './record.js';
import type { CustomValues } from './custom-field.js';

const companyEditableShape = {
  /** Ids of this record in other systems (see `ExternalRef`). */
  externalRefs: z.optional(externalRefsSchema),
  name: requiredText(),
  /** The company's web domain, used to match leads by e-mail domain. */
  domain: z.optional(domainSchema),
  website: optionalText(500),
  phone: z.optional(phoneSchema),
  industry: optionalText(100),
  country: z.optional(countrySchema),
  ownerId: z.optional(userIdSchema),
  notes: optionalText(LIMITS.longText),
  tags: z.optional(tagsSchema),
  custom: z.optional(customValuesInputSchema),
};

export const companyCreateInputSchema = z.strictObject({ id: z.optional(idSchema), ...companyEditableShape });
export type CompanyCreateInput = z.input<typeof companyCreateInputSchema>;

export const companyUpdateInputSchema = z.strictObject({
  version: z.optional(z.number().check(int(), z.gte(1))),
  ...patchShape(companyEditableShape, ['tags', 'custom']),
});
export type CompanyUpdateInput = z.input<typeof companyUpdateInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const companySchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  ...companyEditableShape,
  tags: tagsSchema,
  custom: customValuesInputSchema,
  lastInteractionAt: z.optional(timestampSchema),
  searchKeys: z.array(z.string()),
  ...sharedRecordShape,
  ...externalRefShape,
});
/** A company (account): the organisation behind contacts and deals. */
export type Company = Omit<z.infer<ReturnType<typeof companySchema>>, 'custom'> & { readonly custom: CustomValues };

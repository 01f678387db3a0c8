import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import * as z from 'zod/mini';
import { externalRefsSchema } from '../../src/schema/external-ref.js';
import {
  clearable,
  countrySchema,
  customValuesInputSchema,
  domainSchema,
  emailSchema,
  idSchema,
  int,
  LIMITS,
  moneySchema,
  phoneSchema,
  probabilityInput,
  requiredText,
  tagsSchema,
  text,
  userIdSchema,
} from '../../src/schema/primitives.js';
import { leadUpdateInputSchema, type LeadUpdateInput } from '../../src/schema/lead.js';
import { contactUpdateInputSchema, type ContactUpdateInput } from '../../src/schema/contact.js';
import { companyUpdateInputSchema, type CompanyUpdateInput } from '../../src/schema/company.js';
import { fromZodIssues } from '../../src/errors/zod-issues.js';

// Issue 15: the update schemas of leads, contacts and companies are derived from their editable shapes
// (`patchShape`) instead of being written a second time. These are the schemas as they were written out:
// the derived ones must take the same keys in the same order, accept and refuse the same patches with the
// same issues, and have the same input type.
const version = z.optional(z.number().check(int(), z.gte(1)));
const written = {
  lead: z.strictObject({
    version,
    externalRefs: clearable(externalRefsSchema),
    name: z.optional(requiredText()),
    companyName: clearable(text(LIMITS.shortText)),
    email: clearable(emailSchema),
    phone: clearable(phoneSchema),
    website: clearable(text(500)),
    title: clearable(text(LIMITS.shortText)),
    message: clearable(text(LIMITS.longText)),
    source: clearable(text(64)),
    campaign: clearable(text(128)),
    country: clearable(countrySchema),
    territory: clearable(text(64)),
    ownerId: clearable(userIdSchema),
    expectedValue: clearable(moneySchema),
    probability: clearable(probabilityInput),
    tags: z.optional(tagsSchema),
    custom: z.optional(customValuesInputSchema),
  }),
  contact: z.strictObject({
    version,
    externalRefs: clearable(externalRefsSchema),
    name: z.optional(requiredText()),
    email: clearable(emailSchema),
    phone: clearable(phoneSchema),
    jobTitle: clearable(text(LIMITS.shortText)),
    companyId: clearable(idSchema),
    ownerId: clearable(userIdSchema),
    source: clearable(text(64)),
    country: clearable(countrySchema),
    notes: clearable(text(LIMITS.longText)),
    tags: z.optional(tagsSchema),
    custom: z.optional(customValuesInputSchema),
  }),
  company: z.strictObject({
    version,
    externalRefs: clearable(externalRefsSchema),
    name: z.optional(requiredText()),
    domain: clearable(domainSchema),
    website: clearable(text(500)),
    phone: clearable(phoneSchema),
    industry: clearable(text(100)),
    country: clearable(countrySchema),
    ownerId: clearable(userIdSchema),
    notes: clearable(text(LIMITS.longText)),
    tags: z.optional(tagsSchema),
    custom: z.optional(customValuesInputSchema),
  }),
};
const derived = { lead: leadUpdateInputSchema, contact: contactUpdateInputSchema, company: companyUpdateInputSchema };

const verdict = (schema: z.ZodMiniType, value: unknown) => {
  const result = schema.safeParse(value);
  return result.success ? { data: result.data } : { issues: fromZodIssues(result.error.issues) };
};

/** A field value that any of the field schemas may accept or refuse: absent, null, text of the edges, numbers, lists, objects. */
const fieldValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constantFrom('', ' ', 'Ada', 'ada@example.com', '+33 6 12 34 56 78', 'DE', 'acme.com', 'u1', 'x'.repeat(201), 'a\u0000b'),
  fc.string({ maxLength: 30 }),
  fc.integer({ min: -2, max: 150 }),
  fc.double({ min: 0, max: 1 }),
  fc.constantFrom([], ['vip'], [''], [{ system: 'shop', id: '1' }], { amount: 100, currency: 'EUR' }, { amount: 1.5, currency: 'EUR' }, { a: 1 }, true),
);

describe('update schemas derived from the editable shapes (issue 15)', () => {
  for (const entity of ['lead', 'contact', 'company'] as const) {
    it(`${entity}: the same keys in the same order, the same verdicts and issues as the schema written out`, () => {
      const keys = Object.keys(written[entity].shape);
      expect(Object.keys(derived[entity].shape)).toEqual(keys);
      const patch = fc.dictionary(fc.constantFrom(...keys, 'unknownField'), fieldValue, { maxKeys: 5 });
      fc.assert(
        fc.property(patch, (value) => {
          expect(verdict(derived[entity], value)).toEqual(verdict(written[entity], value));
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('the input types are the ones written out', () => {
    expectTypeOf<LeadUpdateInput>().toEqualTypeOf<z.input<typeof written.lead>>();
    expectTypeOf<ContactUpdateInput>().toEqualTypeOf<z.input<typeof written.contact>>();
    expectTypeOf<CompanyUpdateInput>().toEqualTypeOf<z.input<typeof written.company>>();
  });
});

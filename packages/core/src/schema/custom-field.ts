import * as z from 'zod/mini';
import { currencySchema, LIMITS, optionalText, requiredText } from './primitives.js';
import { recordBaseShape } from './record.js';

/** Entities that accept custom fields. */
export const CUSTOMIZABLE_ENTITIES = ['lead', 'contact', 'company', 'deal'] as const;
export type CustomizableEntity = (typeof CUSTOMIZABLE_ENTITIES)[number];

export const CUSTOM_FIELD_TYPES = ['text', 'number', 'boolean', 'date', 'select', 'multiselect', 'money'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

/**
 * A custom-field key: camelCase-ish identifier. The pattern also rules out `__proto__`, `constructor`
 * and anything that could break a JSON path in SQL.
 */
export const customFieldKeySchema = z.string().check(
  z.regex(/^[a-z][a-zA-Z0-9_]{0,47}$/, 'must start with a lower-case letter and use letters, digits or "_" (max 48)'),
  z.refine((k) => k !== 'constructor', 'is reserved'),
);

export const customFieldOptionSchema = z.strictObject({
  // A CSV cell is read trimmed: an option with surrounding spaces would not import back (review16i #4).
  value: requiredText(100).check(z.regex(/^\S(?:[\s\S]*\S)?$/, 'must not start or end with whitespace')),
  label: optionalText(200),
});

const definitionShape = {
  entity: z.enum(CUSTOMIZABLE_ENTITIES),
  key: customFieldKeySchema,
  label: requiredText(200),
  type: z.enum(CUSTOM_FIELD_TYPES),
  /** Allowed values for `select` and `multiselect`. */
  options: z.optional(z.array(customFieldOptionSchema).check(z.minLength(1), z.maxLength(500))),
  /** For `money`: the only currency accepted, when set. */
  currency: z.optional(currencySchema),
  /** Records of the entity must carry a value on create. */
  required: z.optional(z.boolean()),
  /**
   * Keep an index on the field in storage, so filters, sorts and aggregates on it do not scan the
   * entity (money fields: on the amount). Not for multiselect fields. The index stays when this is
   * turned off again (indexes are only ever added).
   */
  indexed: z.optional(z.boolean()),
  description: optionalText(LIMITS.mediumText),
};

/** Input of `crm.customFields.define`. */
export const customFieldDefineInputSchema = z
  .strictObject(definitionShape)
  .check(
    z.superRefine((def, ctx) => {
      const needsOptions = def.type === 'select' || def.type === 'multiselect';
      if (needsOptions && !def.options) {
        ctx.issues.push({ code: 'custom', path: ['options'], message: `required for a ${def.type} field`, input: def.options });
      }
      if (!needsOptions && def.options) {
        ctx.issues.push({ code: 'custom', path: ['options'], message: `only allowed for select and multiselect fields`, input: def.options });
      }
      if (def.indexed && def.type === 'multiselect') {
        ctx.issues.push({ code: 'custom', path: ['indexed'], message: 'multiselect fields cannot be indexed', input: def.indexed });
      }
      if (def.currency && def.type !== 'money') {
        ctx.issues.push({ code: 'custom', path: ['currency'], message: 'only allowed for money fields', input: def.currency });
      }
      if (def.options) {
        const seen = new Set<string>();
        def.options.forEach((o, i) => {
          if (seen.has(o.value)) ctx.issues.push({ code: 'custom', params: { code: 'duplicate' }, path: ['options', i, 'value'], message: 'duplicate option', input: o.value });
          seen.add(o.value);
        });
      }
    }),
  );
export type CustomFieldDefineInput = z.input<typeof customFieldDefineInputSchema>;

/** Input of `crm.customFields.update`: label, description, required and indexed flags and options can change; type cannot. */
export const customFieldUpdateInputSchema = z.strictObject({
  label: z.optional(requiredText(200)),
  description: optionalText(LIMITS.mediumText),
  required: z.optional(z.boolean()),
  indexed: z.optional(z.boolean()),
  options: z.optional(z.array(customFieldOptionSchema).check(z.minLength(1), z.maxLength(500))),
  archived: z.optional(z.boolean()),
});
export type CustomFieldUpdateInput = z.input<typeof customFieldUpdateInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const customFieldDefinitionSchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  ...definitionShape,
  /** Archived fields keep their stored values but accept no new ones. */
  archived: z.boolean(),
});
export type CustomFieldDefinition = z.infer<ReturnType<typeof customFieldDefinitionSchema>>;

/** A stored custom value, by field type. */
export type CustomFieldValue = string | number | boolean | readonly string[] | { readonly amount: number; readonly currency: string };
export type CustomValues = Readonly<Record<string, CustomFieldValue>>;

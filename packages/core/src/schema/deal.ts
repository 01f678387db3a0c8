import * as z from 'zod/mini';
import { externalRefShape, externalRefsSchema } from './external-ref.js';
import {
  text,
  currencySchema,
  customValuesInputSchema,
  idSchema,
  isoDateSchema,
  LIMITS,
  minorUnitsSchema,
  moneySchema,
  optionalText,
  probabilityInput,
  probabilitySchema,
  requiredText,
  tagsSchema,
  timestampSchema,
  userIdSchema,
  clearable,
  countrySchema, int } from './primitives.js';
import { recordBaseShape, sharedRecordShape } from './record.js';
import { stageKeySchema } from './pipeline.js';
import type { NextStepInput } from './task.js';
import type { CustomValues } from './custom-field.js';


/** A line of the order. Prices are integer minor units in the deal's currency. */
export const lineItemInputSchema = z.strictObject({
  /** The host's product id or SKU. */
  productRef: optionalText(128),
  name: requiredText(),
  /** Positive, up to three decimals (2.5 kg). */
  quantity: z.number().check(
    z.gt(0),
    z.lte(1_000_000_000),
    z.refine((q) => Math.abs(Math.round(q * 1000) - q * 1000) < 1e-6, 'must have at most 3 decimals'),
  ),
  unitPrice: minorUnitsSchema.check(z.gte(0)),
  /** Discount in percent (0–100, at most two decimals). */
  discountPercent: z.optional(
    z.number().check(z.gte(0), z.lte(100), z.refine((d) => Math.abs(Math.round(d * 100) - d * 100) < 1e-6, 'must have at most 2 decimals')),
  ),
});
export type LineItemInput = z.input<typeof lineItemInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const lineItemSchema = () =>
  z.strictObject({
  productRef: optionalText(128),
  name: requiredText(),
  quantity: z.number(),
  unitPrice: minorUnitsSchema,
  discountPercent: z.optional(z.number()),
  /** quantity × unitPrice − discount, rounded half-even to minor units. Derived by crmkit. */
  total: minorUnitsSchema,
});
export type LineItem = z.infer<ReturnType<typeof lineItemSchema>>;

export const DEAL_STATUSES = ['open', 'won', 'lost'] as const;
export type DealStatus = (typeof DEAL_STATUSES)[number];

export const dealCreateInputSchema = z.strictObject({
  id: z.optional(idSchema),
  /** Ids of this deal in other systems (an order number; see `ExternalRef`). */
  externalRefs: z.optional(externalRefsSchema),
  title: requiredText(),
  /** Defaults to the tenant's first pipeline. */
  pipelineId: z.optional(idSchema),
  /** Defaults to the pipeline's first open stage. */
  stageKey: z.optional(stageKeySchema),
  ownerId: z.optional(userIdSchema),
  contactId: z.optional(idSchema),
  companyId: z.optional(idSchema),
  leadId: z.optional(idSchema),
  /** Currency of the deal; defaults to `value.currency` or the instance's `defaultCurrency`. */
  currency: z.optional(currencySchema),
  /** The amount when the deal has no line items. With line items, the amount is derived from them. */
  value: z.optional(moneySchema),
  lineItems: z.optional(z.array(lineItemInputSchema).check(z.maxLength(LIMITS.lineItems))),
  /** A manual probability in percent (0–100; 0 < p < 1 is refused as a fraction); otherwise it follows the stage. */
  probability: z.optional(probabilityInput),
  expectedCloseDate: z.optional(isoDateSchema),
  source: optionalText(64),
  /** The client's country, ISO 3166 alpha-2 (copied from the lead on conversion). */
  country: z.optional(countrySchema),
  tags: z.optional(tagsSchema),
  custom: z.optional(customValuesInputSchema),
  /** The first next-step task (required in strict pipelines whose first stage creates none); checked by the tasks feature. */
  nextStep: z.optional(z.custom<NextStepInput>()),
});
export type DealCreateInput = z.input<typeof dealCreateInputSchema>;

/** Stage moves are not updates: use `advance`, `postpone`, `win`, `lose`, `reopen`. */
export const dealUpdateInputSchema = z.strictObject({
  version: z.optional(z.number().check(int(), z.gte(1))),
  externalRefs: clearable(externalRefsSchema),
  title: z.optional(requiredText()),
  ownerId: clearable(userIdSchema),
  contactId: clearable(idSchema),
  companyId: clearable(idSchema),
  /**
   * A new currency. The stored integers are never relabelled: give the new amounts (`value`, or
   * `lineItems` priced in the new currency) or `exchangeRate` to convert the current ones.
   */
  currency: z.optional(currencySchema),
  /**
   * With a `currency` change and no new amounts: how many units of the new currency one unit of the
   * current currency is worth (major units, e.g. EUR→USD `1.0843`). Amounts and line prices are
   * converted with the ISO 4217 decimals of both currencies and rounded half-even.
   */
  exchangeRate: z.optional(z.number().check(z.gte(1e-9), z.lte(1e12))),
  value: z.optional(moneySchema),
  lineItems: z.optional(z.array(lineItemInputSchema).check(z.maxLength(LIMITS.lineItems))),
  /** A manual probability; `null` returns to the stage's probability. */
  probability: clearable(probabilityInput),
  expectedCloseDate: clearable(isoDateSchema),
  source: clearable(text(64)),
  country: clearable(countrySchema),
  tags: z.optional(tagsSchema),
  custom: z.optional(customValuesInputSchema),
});
export type DealUpdateInput = z.input<typeof dealUpdateInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const dealSchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  title: requiredText(),
  pipelineId: idSchema,
  stageKey: stageKeySchema,
  status: z.enum(DEAL_STATUSES),
  ownerId: z.optional(userIdSchema),
  contactId: z.optional(idSchema),
  companyId: z.optional(idSchema),
  leadId: z.optional(idSchema),
  value: moneySchema,
  lineItems: z.array(lineItemSchema()),
  probability: probabilitySchema,
  /** True when `probability` was set by hand; it then sticks until the stage changes. */
  probabilityManual: z.boolean(),
  /** value × probability, rounded half-even. Derived by crmkit. */
  weightedValue: moneySchema,
  expectedCloseDate: z.optional(isoDateSchema),
  /** `YYYY-MM` of `expectedCloseDate`, for the forecast. Derived by crmkit. */
  expectedCloseMonth: z.optional(z.string()),
  closedAt: z.optional(timestampSchema),
  /** closedAt − createdAt in ms, set when the deal closes: the sales cycle. Derived by crmkit. */
  cycleMs: z.optional(z.number()),
  /** The open stage the deal was won or lost from. */
  closedFromStage: z.optional(stageKeySchema),
  country: z.optional(z.string()),
  /** Probability predicted by lead scoring (0–100); never replaces a manual probability. */
  predictedProbability: z.optional(probabilitySchema),
  lostReason: optionalText(64),
  lostComment: optionalText(LIMITS.mediumText),
  /** When the deal entered its current stage. */
  stageEnteredAt: timestampSchema,
  /** Last activity, task completion or update: the clock that rotting runs against. */
  lastActivityAt: timestampSchema,
  /** Postponements over the deal's life and in the current stage visit. */
  postponeCount: z.number().check(int(), z.gte(0)),
  stagePostponeCount: z.number().check(int(), z.gte(0)),
  /** Set while the deal is rotting (no activity for the stage's `rottenDays`); cleared by any activity. */
  rottingSince: z.optional(timestampSchema),
  /** Due time of the earliest open task of the deal, maintained by crmkit. */
  nextStepDueAt: z.optional(timestampSchema),
  source: optionalText(64),
  tags: tagsSchema,
  custom: customValuesInputSchema,
  ...sharedRecordShape,
  ...externalRefShape,
});
/** A deal: the order, the client and its stage in the funnel. */
export type Deal = Omit<z.infer<ReturnType<typeof dealSchema>>, 'custom'> & { readonly custom: CustomValues };

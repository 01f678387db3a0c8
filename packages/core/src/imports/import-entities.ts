import type * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import { createCard, updateCard } from '../cards/card-operations.js';
import { CONTACT_CARD } from '../contacts/contact-service.js';
import { COMPANY_CARD } from '../companies/company-service.js';
import { LEAD_CARD } from '../leads/lead-service.js';
import { createDealIn } from '../deals/deal-factory.js';
import { updateDealIn } from '../deals/deal-service.js';
import { dealAmount, priceLineItems } from '../domain/deal-values.js';
import type { Deal } from '../schema/deal.js';
import { checkNextStep } from '../funnel/next-step.js';
import type { Crm } from '../crm/crm.js';
import type { Operation } from '../crm/operation.js';
import type { CrmContext } from '../crm/context.js';
import { safeParseInput } from '../crm/parse-input.js';
import { withNormalizedFields } from './normalized-keys.js';
import { inputShape } from './field-paths.js';
import type { ValidationIssue } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';
import { contactCreateInputSchema, contactUpdateInputSchema } from '../schema/contact.js';
import { companyCreateInputSchema, companyUpdateInputSchema } from '../schema/company.js';
import { leadCreateInputSchema, leadUpdateInputSchema } from '../schema/lead.js';
import { dealCreateInputSchema, dealUpdateInputSchema } from '../schema/deal.js';
import { activityLogInputSchema } from '../schema/activity.js';

/**
 * A deal row's derived values read back (an exported deal): the `value` the line items derive — in
 * the deal's currency — is dropped, any other is left for the deal service to refuse ("the value of a
 * deal with line items is derived from them"); so is the stage's probability of a deal without a manual one.
 */
function derivedValue(parsed: Record<string, unknown>, deal: Deal | undefined): Record<string, unknown> {
  // The stage's probability read back is no manual one: setting it would pin the deal's probability to it.
  if (deal && !deal.probabilityManual && parsed.probability === deal.probability) {
    const { probability: _p, ...rest } = parsed;
    parsed = rest;
  }
  const value = parsed.value as { amount: number; currency: string } | undefined;
  const lines = parsed.lineItems as Parameters<typeof priceLineItems>[0] | undefined;
  if (!value || !(lines ?? deal?.lineItems)?.length) return parsed;
  let amount: number;
  try {
    amount = lines ? dealAmount(priceLineItems(lines), undefined) : deal!.value.amount;
  } catch {
    return parsed;
  }
  const currency = (parsed.currency as string | undefined) ?? deal?.value.currency ?? value.currency;
  if (value.amount !== amount || value.currency !== currency) return parsed;
  const { value: _value, ...rest } = parsed;
  return { ...rest, currency };
}

/** The entities `crm.import.run` imports. */
export type ImportEntity = 'contact' | 'company' | 'lead' | 'deal' | 'activity';
export const IMPORT_ENTITIES: readonly ImportEntity[] = ['contact', 'company', 'lead', 'deal', 'activity'];

type Parsed = Record<string, unknown>;
type ParseResult = { success: true; data: Parsed } | { success: false; issues: ValidationIssue[] };

/** How one entity is parsed, created and updated: the services' own schemas and in-operation writers. */
export interface EntityImporter {
  readonly entity: ImportEntity;
  /** Fields a create needs: a create or upsert mapping must fill them. */
  readonly required: readonly string[];
  /** The fields a mapping may fill: those of the create and update inputs (a path's first segment). */
  readonly fields: ReadonlySet<string>;
  /** The create and update inputs' fields by name, with their schemas: the paths a mapping may name (`isFieldPath`). */
  readonly shape: Readonly<Record<string, unknown>>;
  /** Fields only a create takes (a deal's `pipelineId`, `stageKey`): an update row may repeat the record's value, not change it. */
  readonly createOnly: ReadonlySet<string>;
  parseCreate(ctx: CrmContext, input: unknown): ParseResult;
  parseUpdate?(ctx: CrmContext, input: unknown): ParseResult;
  create(op: Operation, parsed: Parsed, context: string, crm: Crm): Promise<RecordBase>;
  update?(op: Operation, id: string, parsed: Parsed, context: string): Promise<RecordBase>;
}

/** The input fields of the given object schemas: their names and their shape. */
const fieldsOf = (create: z.ZodMiniType, update?: z.ZodMiniType) => {
  const shape = inputShape(create, ...(update ? [update] : []));
  const updated = update ? inputShape(update) : shape;
  return { shape, fields: new Set(Object.keys(shape)) as ReadonlySet<string>, createOnly: new Set(Object.keys(shape).filter((f) => f !== 'id' && !Object.hasOwn(updated, f))) as ReadonlySet<string> };
};

const plain = (schema: z.ZodMiniType) => (_ctx: CrmContext, input: unknown) => safeParseInput(schema, input) as ParseResult;

const normalized = (entity: string, schema: z.ZodMiniType) => (ctx: CrmContext, input: unknown): ParseResult => {
  const result = plain(schema)(ctx, input);
  return result.success ? { success: true, data: withNormalizedFields(entity, result.data) } : result;
};

/** A deal's `nextStep` belongs to the tasks feature: checked with the schema, as `deals.create` does. */
function parseDeal(ctx: CrmContext, input: unknown): ParseResult {
  const step = checkNextStep(ctx, input);
  const result = safeParseInput(dealCreateInputSchema, input) as ParseResult;
  if (!result.success || step.issues.length) return { success: false, issues: [...(result.success ? [] : result.issues), ...step.issues] };
  return step.value ? { success: true, data: { ...result.data, nextStep: step.value } } : result;
}

export const IMPORTERS: Readonly<Record<ImportEntity, EntityImporter>> = {
  contact: {
    entity: 'contact',
    ...fieldsOf(contactCreateInputSchema, contactUpdateInputSchema),
    required: ['name'],
    parseCreate: plain(contactCreateInputSchema),
    parseUpdate: plain(contactUpdateInputSchema),
    create: (op, parsed, context) => createCard(op, CONTACT_CARD, parsed, context),
    update: (op, id, parsed, context) => updateCard(op, CONTACT_CARD, id, parsed, context),
  },
  company: {
    entity: 'company',
    ...fieldsOf(companyCreateInputSchema, companyUpdateInputSchema),
    required: ['name'],
    // As `companies.create`: the domain is stored canonical (a key by domain finds it in any spelling).
    parseCreate: normalized('company', companyCreateInputSchema),
    parseUpdate: normalized('company', companyUpdateInputSchema),
    create: (op, parsed, context) => createCard(op, COMPANY_CARD, parsed, context),
    update: (op, id, parsed, context) => updateCard(op, COMPANY_CARD, id, parsed, context),
  },
  lead: {
    entity: 'lead',
    ...fieldsOf(leadCreateInputSchema, leadUpdateInputSchema),
    required: ['name'],
    parseCreate: plain(leadCreateInputSchema),
    parseUpdate: plain(leadUpdateInputSchema),
    // As `leads.create`: in a view, a lead nobody routes belongs to its author.
    create: (op, parsed, context) => createCard(op, LEAD_CARD, op.guard && !parsed.ownerId ? { ...parsed, ownerId: op.ctx.actor!.userId } : parsed, context),
    update: (op, id, parsed, context) => updateCard(op, LEAD_CARD, id, parsed, context),
  },
  deal: {
    entity: 'deal',
    ...fieldsOf(dealCreateInputSchema, dealUpdateInputSchema),
    required: ['title'],
    parseCreate: parseDeal,
    parseUpdate: plain(dealUpdateInputSchema),
    create: async (op, parsed, context) => (await createDealIn(op, derivedValue(parsed, undefined) as never, context)).deal,
    update: async (op, id, parsed) => updateDealIn(op, id, derivedValue(parsed, await op.get<Deal>('deal', id)) as never),
  },
  activity: {
    entity: 'activity',
    ...fieldsOf(activityLogInputSchema),
    required: ['kind'],
    parseCreate: plain(activityLogInputSchema),
    // The activities feature logs it (features do not import each other: through its hook).
    create: (op, parsed) => op.ctx.hooks.activities!.log(op, parsed as never),
  },
};

/**
 * Refuses an entity the importer cannot take in the given mode (`VALIDATION` at `entity` or `mode`).
 * Activities are history, never updated: `create`, or `upsert`, which leaves an activity found by key
 * as it is (as `activities.upsertByExternalRef` does), so a nightly re-run of a call log is idempotent.
 */
export function importerFor(entity: unknown, mode: string): EntityImporter {
  const importer = typeof entity === 'string' ? IMPORTERS[entity as ImportEntity] : undefined;
  if (!importer || !Object.prototype.hasOwnProperty.call(IMPORTERS, entity as string)) {
    throw validationError('import.run', [{ path: ['entity'], code: 'invalid_value', message: `must be one of ${IMPORT_ENTITIES.join(', ')}` }]);
  }
  if (mode === 'update' && !importer.update) {
    throw validationError('import.run', [{ path: ['mode'], code: 'invalid_value', message: `${importer.entity} records are never updated: use create or upsert (which leaves one found as it is)` }]);
  }
  return importer;
}

import type * as z from 'zod/mini';
import { ruleViolation, validationError, type ValidationIssue } from '../errors/crm-error.js';
import { dealAmount, findStage, firstOpenStage, priceLineItems, valueFields } from '../domain/deal-values.js';
import { newRecordBase } from '../domain/records.js';
import { dealCreateInputSchema, type Deal } from '../schema/deal.js';
import type { CrmContext } from '../crm/context.js';
import { copyInput, parseInput } from '../crm/parse-input.js';
import { checkNextStep } from '../funnel/next-step.js';
import type { Pipeline, Stage } from '../schema/pipeline.js';
import type { CustomValuesCheck } from '../crm/feature-hooks.js';
import { customValuesCheck } from '../crm/custom-values.js';
import type { StageVisit } from '../schema/stage-visit.js';
import type { Operation } from '../crm/operation.js';
import type { Task } from '../schema/task.js';
import { checkReferences } from '../crm/references.js';
import { inputFields } from '../crm/input-fields.js';
import { dealRefs } from './deal-refs.js';
import { newStageVisit } from './deal-visits.js';

export type ParsedDealCreate = z.output<typeof dealCreateInputSchema>;

/**
 * Parses a deal input; its `nextStep` is checked by the tasks feature (refused without it).
 *
 * @throws CrmError `VALIDATION` with every problem, the next step's included.
 */
export function parseDealInput(ctx: CrmContext, input: unknown, context: string): ParsedDealCreate {
  input = copyInput(input, context); // read once as plain data before the next step's check (a throwing getter: VALIDATION)
  const step = checkNextStep(ctx, input);
  const parsed = parseInput(dealCreateInputSchema, input, context, step.issues);
  return step.value ? { ...parsed, nextStep: step.value } : parsed;
}

/** Loads the pipeline a new deal goes to: the given one, else the oldest active pipeline. */
export async function resolvePipeline(op: Operation, pipelineId: string | undefined, context: string): Promise<Pipeline> {
  if (pipelineId) {
    const found = await op.get<Pipeline>('pipeline', pipelineId);
    if (!found) throw validationError(context, [{ path: ['pipelineId'], code: 'not_found', message: `pipeline ${pipelineId} does not exist` }]);
    if (found.archived) throw ruleViolation([{ rule: 'pipeline.archived', message: `pipeline ${found.name} is archived` }]);
    return found;
  }
  const { rows } = await op.query<Pipeline>('pipeline', {
    filter: { op: 'eq', field: 'archived', value: false },
    sort: [{ field: 'createdAt' }],
    limit: 1,
  });
  const first = rows[0];
  if (!first) throw ruleViolation([{ rule: 'pipeline.none', message: 'there is no pipeline yet: create one with crm.pipelines.create' }]);
  return first;
}

/** Picks the stage a new deal starts in; only open stages are allowed (use win/lose to close). */
export function resolveStartStage(pipeline: Pipeline, stageKey: string | undefined, context: string): Stage {
  const stage = stageKey ? findStage(pipeline, stageKey) : firstOpenStage(pipeline);
  if (!stage) {
    throw validationError(context, [{ path: ['stageKey'], code: 'not_found', message: `pipeline ${pipeline.name} has no stage "${stageKey}"` }]);
  }
  if (stage.kind !== 'open') {
    throw validationError(context, [{ path: ['stageKey'], code: 'invalid_value', message: 'a new deal starts in an open stage; close it with win or lose' }]);
  }
  return stage;
}

/** Checks that the given money fields agree and returns the deal currency. */
export function resolveCurrency(
  input: { currency?: string; value?: { currency: string }; lineItems?: readonly unknown[] },
  fallback: string,
  issues: ValidationIssue[],
): string {
  if (input.value && input.lineItems && input.lineItems.length > 0) {
    issues.push({ path: ['value'], code: 'invalid_value', message: 'the value of a deal with line items is derived from them; pass one or the other' });
  }
  if (input.value && input.currency && input.value.currency !== input.currency) {
    issues.push({ path: ['value', 'currency'], code: 'invalid_value', message: `must equal the deal currency ${input.currency}` });
  }
  return input.currency ?? input.value?.currency ?? fallback;
}

/**
 * Builds a new deal and its first stage visit from checked input.
 * The caller has resolved the pipeline and stage and checked the links; nothing is written here.
 */
export function buildDeal(
  op: Operation,
  input: ParsedDealCreate,
  pipeline: Pipeline,
  stage: Stage,
  checkCustom: CustomValuesCheck,
  context: string,
): { deal: Deal; visit: StageVisit } {
  const issues: ValidationIssue[] = [];
  const currency = resolveCurrency(input, op.ctx.defaultCurrency, issues);
  const custom = checkCustom(input.custom, undefined);
  issues.push(...custom.issues);
  if (issues.length) throw validationError(context, issues);

  let lineItems: ReturnType<typeof priceLineItems>;
  let amount: number;
  try {
    // A line or a total past the exact integers is the caller's VALIDATION at lineItems.
    lineItems = priceLineItems(input.lineItems ?? []);
    amount = dealAmount(lineItems, input.value);
  } catch (error) {
    throw validationError(context, [{ path: ['lineItems'], code: 'too_big', message: (error as Error).message }]);
  }
  const probability = input.probability ?? stage.probability;
  // Built field by field (no spread + compact): imports create many of these.
  const deal: Record<string, unknown> = newRecordBase(input.id ?? op.newId('deal'), op.tenantId, op.now) as unknown as Record<string, unknown>;
  deal.title = input.title;
  deal.pipelineId = pipeline.id;
  deal.stageKey = stage.key;
  deal.status = 'open';
  const ownerId = input.ownerId ?? op.ctx.actor?.userId;
  if (ownerId !== undefined) deal.ownerId = ownerId;
  if (input.contactId !== undefined) deal.contactId = input.contactId;
  if (input.companyId !== undefined) deal.companyId = input.companyId;
  if (input.leadId !== undefined) deal.leadId = input.leadId;
  const money = valueFields(amount, currency, probability);
  deal.value = money.value;
  deal.weightedValue = money.weightedValue;
  deal.lineItems = lineItems;
  deal.probability = probability;
  deal.probabilityManual = input.probability !== undefined;
  if (input.expectedCloseDate !== undefined) {
    deal.expectedCloseDate = input.expectedCloseDate;
    deal.expectedCloseMonth = input.expectedCloseDate.slice(0, 7);
  }
  if (input.country !== undefined) deal.country = input.country;
  deal.stageEnteredAt = op.now;
  deal.lastActivityAt = op.now;
  deal.postponeCount = 0;
  deal.stagePostponeCount = 0;
  if (input.source !== undefined) deal.source = input.source;
  deal.tags = input.tags ?? [];
  if (input.externalRefs?.length) deal.externalRefs = input.externalRefs;
  deal.custom = custom.values;
  return { deal: deal as unknown as Deal, visit: newStageVisit(op, deal as unknown as Deal) };
}

/**
 * Builds a new deal with everything its start needs: the first stage visit, the first stage's
 * template tasks and the given next step. In strict pipelines the deal must leave with an open task.
 * Nothing is written.
 */
export async function startDeal(
  op: Operation,
  input: ParsedDealCreate,
  pipeline: Pipeline,
  stage: Stage,
  checkCustom: CustomValuesCheck,
  context: string,
): Promise<{ deal: Deal; visit: StageVisit; tasks: Task[] }> {
  const built = buildDeal(op, input, pipeline, stage, checkCustom, context);
  const hook = op.ctx.hooks.tasks;
  const tasks = hook ? await hook.startDeal(op, built.deal, stage, input.nextStep, context) : [];
  if (pipeline.settings.strictNextStep && tasks.length === 0) {
    throw ruleViolation([{ rule: 'strict.nextStepRequired', message: `strict pipeline: a new deal needs a next step (give nextStep)`, data: { stage: stage.key } }]);
  }
  const deal = hook ? hook.withNextStep(built.deal, tasks) : built.deal;
  op.record('deal.created', { type: 'deal', id: deal.id }, { deal }, dealRefs(deal));
  return { deal, visit: built.visit, tasks };
}

/**
 * Creates a deal inside an operation: resolves pipeline and stage, checks links and custom fields,
 * prices line items, writes the deal, its first stage visit and its first tasks, and records `deal.created`.
 */
export async function createDealIn(
  op: Operation,
  input: ParsedDealCreate,
  context: string,
  /** Check the input against the principal's field rules (off for data crmkit composes, as in conversion). */
  checkFields = true,
): Promise<{ deal: Deal; pipeline: Pipeline; stage: Stage }> {
  if (checkFields) op.guard?.checkWriteFields('deal', inputFields('deal', input), context);
  const pipeline = await resolvePipeline(op, input.pipelineId, context);
  const stage = resolveStartStage(pipeline, input.stageKey, context);
  await checkReferences(op, context, [
    { entity: 'contact', id: input.contactId, path: ['contactId'] },
    { entity: 'company', id: input.companyId, path: ['companyId'] },
    { entity: 'lead', id: input.leadId, path: ['leadId'] },
  ]);
  const { deal, visit, tasks } = await startDeal(op, input, pipeline, stage, await customValuesCheck(op, 'deal'), context);
  op.guard?.checkWritten('deal', 'create', undefined, deal);
  await op.insert('deal', deal);
  await op.insert('stageVisit', visit);
  await op.ctx.hooks.tasks?.insert(op, tasks);
  return { deal, pipeline, stage };
}

import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { dealCreateInputSchema, type Deal, type DealCreateInput } from '../schema/deal.js';
import type { Pipeline, Stage } from '../schema/pipeline.js';
import type { StageVisit } from '../schema/stage-visit.js';
import { isCrmError } from '../errors/crm-error.js';
import type { CrmContext } from '../crm/context.js';
import { resolvePipeline, resolveStartStage, startDeal, type ParsedDealCreate } from '../deals/deal-factory.js';
import type { Task } from '../schema/task.js';
import { runWrite, type Operation } from '../crm/operation.js';
import { inputFields } from '../crm/input-fields.js';
import { customValuesCheck } from '../crm/custom-values.js';
import { lockRecords } from '../crm/references.js';
import { checkNextStep } from '../funnel/next-step.js';
import { readCallerInput, safeParseInput } from '../crm/parse-input.js';
import { insertMany } from '../crm/feature-writes.js';

/** Options of `crm.imports.deals`. */
export interface CreateManyOptions {
  /** Called every `progressEvery` records and at the end, with how many are done. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Default 1000. */
  readonly progressEvery?: number;
}

/** At most this many problems are listed in one `VALIDATION` error of an import (a last issue says when there were more). */
export const MAX_REPORTED_ISSUES = 100;
/** Imports larger than this must be split by the caller (one transaction holds it all). */
export const MAX_IMPORT = 1_000_000;
/** Rows per storage write: big enough to amortise calls, small enough to bound memory per statement batch. */
export const CHUNK = 1000;

export function withIndex(error: unknown, index: number, context = 'imports.deals'): unknown {
  if (!isCrmError(error, 'VALIDATION')) return error;
  return validationError(context, error.details.issues.map((issue) => ({ ...issue, path: [index, ...issue.path] })));
}

/** The problems an import error lists: at most `MAX_REPORTED_ISSUES`, and a last one saying when there were more. */
export function listed(issues: readonly ValidationIssue[], more: boolean): ValidationIssue[] {
  const shown = issues.slice(0, MAX_REPORTED_ISSUES);
  if (more) shown.push({ path: [], code: 'too_many_issues', message: `checking stopped after ${MAX_REPORTED_ISSUES} problems; fix these and retry to see the rest` });
  return shown;
}

/** Checks in bulk that every linked contact, company and lead exists; reports `[index, field]`. */
async function checkLinks(op: Operation, inputs: readonly ParsedDealCreate[]): Promise<void> {
  const issues: ValidationIssue[] = [];
  const links = [['contact', 'contactId'], ['company', 'companyId'], ['lead', 'leadId']] as const;
  // Held until commit, as `checkReferences` does: a concurrent remove or merge of one waits for the import, or it for them.
  await lockRecords(op, links.flatMap(([entity, field]) => inputs.map((i) => ({ entity, id: i[field] }))));
  for (const [entity, field] of links) {
    const ids = [...new Set(inputs.map((i) => i[field]).filter((id): id is string => !!id))];
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await op.getMany(entity, chunk);
      // In a view, links to records outside the read scope are refused like missing ones.
      rows.forEach((row, j) => row && (!op.guard || op.guard.canRead(entity, row)) && found.add(chunk[j]!));
    }
    inputs.forEach((input, index) => {
      const id = input[field];
      if (id && !found.has(id)) issues.push({ path: [index, field], code: 'not_found', message: `${entity} ${id} does not exist` });
    });
  }
  if (issues.length) throw validationError('imports.deals', listed(issues, issues.length > MAX_REPORTED_ISSUES));
}

/** Checks the import's options (not plain data: `onProgress` is a function) and copies them: each is read once. */
export function checkOptions(options: unknown): CreateManyOptions {
  if (options === undefined) return {};
  return readCallerInput('imports.deals', () => checkOptionsOf(options), ['options']);
}

function checkOptionsOf(options: unknown): CreateManyOptions {
  const fail = (path: (string | number)[], code: string, message: string) => {
    throw validationError('imports.deals', [{ path: ['options', ...path], code, message }]);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return fail([], 'invalid_type', 'must be an options object');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) if (key !== 'onProgress' && key !== 'progressEvery') fail([key], 'unknown_field', `unknown option "${key.slice(0, 50)}"`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') fail(['onProgress'], 'invalid_type', 'must be a function');
  if (o.progressEvery !== undefined && (typeof o.progressEvery !== 'number' || !Number.isInteger(o.progressEvery) || o.progressEvery < 1 || o.progressEvery > MAX_IMPORT)) {
    fail(['progressEvery'], 'invalid_value', `must be an integer from 1 to ${MAX_IMPORT}`);
  }
  return { ...o } as CreateManyOptions;
}

/**
 * Validates every input first (reporting problems as `[index, …path]`), then creates all deals
 * in one transaction: either every deal is stored with its stage visit and event, or none is.
 */
export async function createManyDeals(ctx: CrmContext, inputs: readonly DealCreateInput[], rawOptions?: CreateManyOptions): Promise<Deal[]> {
  const options = checkOptions(rawOptions);
  if (!Array.isArray(inputs) || inputs.length > MAX_IMPORT) {
    throw validationError('imports.deals', [{ path: [], code: 'invalid_type', message: `must be an array of at most ${MAX_IMPORT} deals` }]);
  }
  const parsed: ParsedDealCreate[] = new Array(inputs.length);
  const issues: ValidationIssue[] = [];
  let checked = 0;
  for (; checked < inputs.length && issues.length < MAX_REPORTED_ISSUES; checked++) {
    // A checked copy: nothing stored or frozen is the caller's object.
    const result = safeParseInput(dealCreateInputSchema, inputs[checked]);
    const step = checkNextStep(ctx, inputs[checked]);
    if (result.success && step.issues.length === 0) parsed[checked] = step.value ? { ...result.data, nextStep: step.value } : result.data;
    else issues.push(...[...(result.success ? [] : result.issues), ...step.issues].map((issue) => ({ ...issue, path: [checked, ...issue.path] })));
  }
  if (issues.length) throw validationError('imports.deals', listed(issues, checked < inputs.length || issues.length > MAX_REPORTED_ISSUES));
  const every = options.progressEvery ?? CHUNK;

  return runWrite(ctx, async (op) => {
    await checkLinks(op, parsed);
    const checkCustom = await customValuesCheck(op, 'deal');
    const pipelines = new Map<string, Pipeline>();
    const deals: Deal[] = [];
    let dealChunk: Deal[] = [];
    let visitChunk: StageVisit[] = [];
    let taskChunk: Task[] = [];
    const flush = async () => {
      await insertMany(op, 'deal', dealChunk);
      await insertMany(op, 'stageVisit', visitChunk);
      await op.ctx.hooks.tasks?.insert(op, taskChunk);
      dealChunk = [];
      visitChunk = [];
      taskChunk = [];
    };
    for (let i = 0; i < parsed.length; i++) {
      const input = parsed[i]!;
      try {
        const key = input.pipelineId ?? '';
        let pipeline = pipelines.get(key);
        if (!pipeline) pipelines.set(key, (pipeline = await resolvePipeline(op, input.pipelineId, 'imports.deals')));
        const stage: Stage = resolveStartStage(pipeline, input.stageKey, 'imports.deals');
        op.guard?.checkWriteFields('deal', inputFields('deal', input), 'imports.deals');
        const { deal, visit, tasks } = await startDeal(op, input, pipeline, stage, checkCustom, 'imports.deals');
        op.guard?.checkWritten('deal', 'create', undefined, deal);
        deals.push(deal);
        dealChunk.push(deal);
        visitChunk.push(visit);
        taskChunk.push(...tasks);
      } catch (error) {
        throw withIndex(error, i);
      }
      if (dealChunk.length >= CHUNK) await flush();
      if (options.onProgress && ((i + 1) % every === 0 || i + 1 === parsed.length)) options.onProgress(i + 1, parsed.length);
    }
    await flush();
    return deals;
  });
}

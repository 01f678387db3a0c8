import type * as z from 'zod/mini';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { createCard, type CardConfig, type CardRecord } from '../cards/card-operations.js';
import type { CrmContext } from '../crm/context.js';
import { runWrite } from '../crm/operation.js';
import { safeParseInput } from '../crm/parse-input.js';
import { withNormalizedFields } from './normalized-keys.js';
import { checkOptions, listed, MAX_IMPORT, MAX_REPORTED_ISSUES, withIndex, type CreateManyOptions } from './deal-import.js';

/**
 * Validates every input first (problems as `[index, …path]`), then creates all cards in one
 * transaction, each as `crm.<entity>.create` would (links, custom fields, search keys, event).
 */
export async function createManyCards<T extends CardRecord>(
  ctx: CrmContext,
  config: CardConfig<T>,
  schema: z.ZodMiniType,
  inputs: readonly unknown[],
  rawOptions: CreateManyOptions | undefined,
  context: string,
): Promise<T[]> {
  const options = checkOptions(rawOptions);
  if (!Array.isArray(inputs) || inputs.length > MAX_IMPORT) {
    throw validationError(context, [{ path: [], code: 'invalid_type', message: `must be an array of at most ${MAX_IMPORT} records` }]);
  }
  const parsed: Record<string, unknown>[] = new Array(inputs.length);
  const issues: ValidationIssue[] = [];
  let checked = 0;
  for (; checked < inputs.length && issues.length < MAX_REPORTED_ISSUES; checked++) {
    const result = safeParseInput(schema, inputs[checked]);
    // Normalised as `crm.<entity>.create` stores them (a company's domain).
    if (result.success) parsed[checked] = withNormalizedFields(config.entity, result.data as Record<string, unknown>);
    else issues.push(...result.issues.map((issue) => ({ ...issue, path: [checked, ...issue.path] })));
  }
  if (issues.length) throw validationError(context, listed(issues, checked < inputs.length || issues.length > MAX_REPORTED_ISSUES));
  const every = options.progressEvery ?? 1000;
  return runWrite(ctx, async (op) => {
    const out: T[] = [];
    for (let i = 0; i < parsed.length; i++) {
      try {
        out.push(await createCard(op, config, parsed[i]!, context));
      } catch (error) {
        throw withIndex(error, i, context);
      }
      if (options.onProgress && ((i + 1) % every === 0 || i + 1 === parsed.length)) options.onProgress(i + 1, parsed.length);
    }
    return out;
  });
}

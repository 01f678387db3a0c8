import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import type { Filter, SortSpec } from '../query/query-spec.js';
import { decodeCursor } from '../query/cursor.js';
import type { Deal } from '../schema/deal.js';
import type { Pipeline, Stage } from '../schema/pipeline.js';
import type { DealField } from '../storage/crm-schema.js';
import type { CrmContext } from '../crm/context.js';
import { checkLimit, prepareQuery } from '../crm/list-options.js';
import { runRead } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import * as z from 'zod/mini';

/** Options of `crm.deals.board`. */
export interface BoardOptions {
  /** Cards per column, 1–500 (default 50). */
  readonly limitPerStage?: number;
  /** Extra filter applied to every column and total (an owner, a tag…). */
  readonly where?: Filter<DealField>;
  /** Card order within a column (default: longest in stage first). */
  readonly orderBy?: readonly SortSpec<DealField>[];
  /** Show won and lost columns too (default false). */
  readonly includeClosed?: boolean;
  /** Continue columns from their `nextCursor`, by stage key. */
  readonly cursors?: Readonly<Record<string, string>>;
  /** Only these stage keys (default all shown stages). */
  readonly stages?: readonly string[];
}

/** A column's money totals, one per currency (amounts never mix currencies). */
export interface BoardTotal {
  readonly currency: string;
  readonly amount: number;
  readonly weighted: number;
}

export interface BoardColumn {
  readonly stage: Stage;
  /** The first page of cards. */
  readonly deals: Deal[];
  /** Deals in the stage matching the filter (not only the page). */
  readonly count: number;
  readonly totals: BoardTotal[];
  readonly nextCursor?: string;
}

export interface Board {
  readonly pipeline: Pipeline;
  readonly columns: BoardColumn[];
}

const DEFAULT_ORDER: readonly SortSpec[] = [{ field: 'stageEnteredAt', direction: 'asc' }];

/** The shape of the options; `where` and `orderBy` are checked against the deal fields afterwards. */
const boardOptionsSchema = z.optional(
  z.strictObject({
    limitPerStage: z.optional(z.unknown()),
    where: z.optional(z.unknown()),
    orderBy: z.optional(z.unknown()),
    includeClosed: z.optional(z.boolean()),
    // Stage key → cursor; each is checked against the shown stages and decoded below.
    cursors: z.optional(z.looseObject({})),
    stages: z.optional(z.array(z.string().check(z.maxLength(48))).check(z.maxLength(50))),
  }),
);

/**
 * The stages each pipeline had at its last board read, by `tenant\npipeline` (see `readBoard`; at most
 * 256). Shared by every crm of the page: a guess is checked before use, so a wrong one costs reads only.
 */
const lastStages = new Map<string, readonly Stage[]>();

/** The columns a board shows of `stages`. */
const shownOf = (stages: readonly Stage[], options: BoardOptions) => stages.filter((s) => (options.includeClosed || s.kind === 'open') && (!options.stages || options.stages.includes(s.key)));
const keysOf = (stages: readonly Stage[]) => JSON.stringify(stages.map((s) => s.key));

/**
 * Reads a pipeline board in one read transaction: a page of cards per stage (served by the
 * `(pipelineId, stageKey, stageEnteredAt)` index) and per-stage counts and totals from one grouped
 * aggregate (answered from the storage's maintained board totals where it keeps them).
 *
 * The card and totals reads need the pipeline's stages. On IndexedDB every read that waits for
 * another costs a round trip to the database process, so when the stages of the pipeline's last
 * board read are known the columns are read for them together with the pipeline, in the same
 * transaction, and used only if the pipeline just read still shows exactly those stages (otherwise
 * they are read again for the stages it shows): a guess can cost reads, never a stale board.
 */
export async function readBoard(ctx: CrmContext, pipelineId: string, options: BoardOptions = {}): Promise<Board> {
  const id = parseId(pipelineId, 'deals.board', 'pipelineId');
  parseInput(boardOptionsSchema, options, 'deals.board');
  const issues: ValidationIssue[] = [];
  checkLimit(options.limitPerStage, 'limitPerStage', issues, 500);
  return runRead(ctx, async (op) => {
    op.guard?.require('pipeline', 'read');
    const loading = op.require<Pipeline>('pipeline', id);
    loading.catch(() => undefined);
    // A missing pipeline is reported before bad options (it is awaited before their error is thrown).
    const { filter, sort, customTypes } = await prepareQuery(op, 'deal', options.where, options.orderBy, 'deals.board', DEFAULT_ORDER, issues).catch(async (error: unknown) => {
      await loading;
      throw error;
    });
    const inPipeline: Filter = { op: 'eq', field: 'pipelineId', value: id };
    // Cards, counts and totals cover only the deals the principal may read (the scope is pushed down),
    // and a board is deals by stage: it needs the stage (and the pipeline) readable.
    op.guard?.checkReadFields('deal', ['pipelineId', 'stageKey'], 'deals.board');
    const base: Filter = op.scoped('deal', filter ? { op: 'and', filters: [inPipeline, filter] } : inPipeline)!;
    // Without read access to amounts and probabilities, the columns carry counts but no money totals.
    // Weighted totals derive from amounts and probabilities: both must be readable (weightedValue reveals both).
    const money = !op.guard || (op.guard.readable('deal', 'value') && op.guard.readable('deal', 'weightedValue'));
    const limit = options.limitPerStage ?? 50;
    const cursors = options.cursors ?? {};
    const read = (shown: readonly Stage[]) =>
      Promise.all([
        Promise.all(
          shown.map((stage) => {
            const after = cursors[stage.key];
            return op.query<Deal>('deal', {
              filter: { op: 'and', filters: [base, { op: 'eq', field: 'stageKey', value: stage.key }] },
              sort,
              limit,
              customTypes,
              ...(after ? { after } : {}),
            });
          }),
        ),
        // Storage answers these totals from its materialized board totals where it keeps them (`EntitySchema.aggregates`).
        op.tx.aggregate('deal', op.tenantId, {
          // Only the shown stages: closed deals of big pipelines would otherwise dominate the scan.
          filter: { op: 'and', filters: [base, { op: 'in', field: 'stageKey', values: shown.map((s) => s.key) }] },
          groupBy: money ? ['stageKey', 'value.currency'] : ['stageKey'],
          metrics: money ? { count: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' }, weighted: { fn: 'sum', field: 'weightedValue.amount' } } : { count: { fn: 'count' } },
          customTypes,
        }),
      ]);
    const key = `${op.tenantId}\n${id}`;
    const guess = options.cursors ? undefined : lastStages.get(key);
    const guessed = guess && shownOf(guess, options);
    const early = guessed && read(guessed);
    early?.catch(() => undefined);

    const pipeline = await loading;
    if (lastStages.size > 255) lastStages.clear();
    lastStages.set(key, pipeline.stages);
    const shown = shownOf(pipeline.stages, options);
    const bad = Object.keys(cursors).filter((k) => !shown.some((s) => s.key === k));
    if (bad.length) throw validationError('deals.board', bad.map((k) => ({ path: ['cursors', k], code: 'unknown_stage', message: `no shown stage "${k}"` })));
    for (const cursor of Object.values(cursors)) decodeCursor(cursor as string, sort);

    const [pages, groups] = await (early && keysOf(guessed) === keysOf(shown) ? early : read(shown));
    const columns = shown.map((stage, i): BoardColumn => {
      const mine = groups.filter((g) => g.group.stageKey === stage.key);
      const page = pages[i]!;
      return {
        stage,
        deals: page.rows,
        count: mine.reduce((n, g) => n + (g.values.count as number), 0),
        totals: money ? mine.map((g) => ({ currency: String(g.group['value.currency']), amount: g.values.amount as number, weighted: g.values.weighted as number })) : [],
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    });
    return { pipeline, columns };
  });
}

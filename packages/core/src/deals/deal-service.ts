import { readByExternalRef, upsertByExternalRef, type ExternalRefTarget, type UpsertOptions, type UpsertResult } from '../crm/external-ref-api.js';
import { convertAmount } from '../domain/analytics/currency.js';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { dealAmount, findStage, priceLineItems, valueFields } from '../domain/deal-values.js';
import { inexactAmount } from '../domain/money.js';
import { applyPatch, diffRecords, reviseRecord } from '../domain/records.js';
import type { AggregateRow } from '../query/query-spec.js';
import { dealUpdateInputSchema, type Deal, type DealCreateInput, type DealUpdateInput } from '../schema/deal.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { StageVisit } from '../schema/stage-visit.js';
import type { DealField } from '../storage/crm-schema.js';
import type { CrmContext } from '../crm/context.js';
import { createDealIn, parseDealInput, resolveCurrency } from './deal-factory.js';
import { dealRefs } from './deal-refs.js';
import { closeOpenVisit } from './deal-visits.js';
import { dealMove, type MoveOptions, type MoveWithNextStepOptions } from '../funnel/funnel-service.js';
import { rottingFilter } from '../funnel/rotting.js';
import { readBoard, type Board, type BoardOptions } from './deal-board.js';
import { listRecords, readAggregate, type AggregateOptions, type ListOptions, type Page } from '../crm/list-options.js';
import { readRecord, runRead, runWrite, type Operation } from '../crm/operation.js';
import { copyInput, parseId, parseInput } from '../crm/parse-input.js';
import { checkReferences } from '../crm/references.js';
import { customValuesCheck } from '../crm/custom-values.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { inputFields } from '../crm/input-fields.js';
import * as z from 'zod/mini';
import { produce } from '../domain/draft.js';
import { later } from '../domain/clock.js';

/** Options of `crm.deals.list`. */
export interface DealListOptions extends ListOptions<DealField> {
  /** Only deals rotting now: open, idle longer than their stage's `rottenDays`. */
  readonly rotting?: true;
}

const EDITABLE: readonly (keyof DealUpdateInput)[] = ['title', 'ownerId', 'contactId', 'companyId', 'expectedCloseDate', 'source', 'country', 'tags', 'externalRefs'];

/** Applies a parsed patch to a deal inside an operation (`deals.update`, upserts). */
/** @internal Applies a parsed deal patch inside an operation (`deals.update`, external-ref upserts, imports). */
export async function updateDealIn(op: Operation, dealId: string, parsed: z.output<typeof dealUpdateInputSchema>): Promise<Deal> {
  const deal = await op.requireFor<Deal>('deal', dealId, 'update');
  assertExpectedVersion('deal', deal, parsed.version);
  op.guard?.checkWriteFields('deal', inputFields('deal', parsed), 'deals.update');
  await checkReferences(op, 'deals.update', [
    { entity: 'contact', id: parsed.contactId, path: ['contactId'] },
    { entity: 'company', id: parsed.companyId, path: ['companyId'] },
  ]);
  const issues: ValidationIssue[] = [];
  const lineItemsInput = parsed.lineItems;
  const keepsLineItems = lineItemsInput === undefined ? deal.lineItems.length > 0 : lineItemsInput.length > 0;
  if (parsed.value && keepsLineItems) {
    issues.push({ path: ['value'], code: 'invalid_value', message: 'the value of a deal with line items is derived from them' });
  }
  const currency = resolveCurrency({ currency: parsed.currency, value: parsed.value }, deal.value.currency, issues);
  const from = deal.value.currency;
  const newAmounts = parsed.value !== undefined || lineItemsInput !== undefined;
  if (parsed.exchangeRate !== undefined && currency === from) {
    issues.push({ path: ['exchangeRate'], code: 'invalid_value', message: 'an exchange rate goes with a change of currency' });
  } else if (parsed.exchangeRate !== undefined && newAmounts) {
    issues.push({ path: ['exchangeRate'], code: 'invalid_value', message: 'give the new amounts or an exchange rate, not both' });
  } else if (parsed.exchangeRate === undefined && currency !== from && !newAmounts) {
    // Relabelling the stored integers would turn €1,000.00 into ¥100,000: the amount must be restated.
    issues.push({ path: ['currency'], code: 'invalid_value', message: `changing the currency from ${from} to ${currency} needs the new amounts (value or lineItems) or an exchangeRate` });
  }
  const custom = (await customValuesCheck(op, 'deal'))(parsed.custom, deal.custom);
  issues.push(...custom.issues);
  if (issues.length) throw validationError('deals.update', issues);

  const pipeline = await op.require<Pipeline>('pipeline', deal.pipelineId);
  const stageProbability = findStage(pipeline, deal.stageKey)?.probability ?? deal.probability;
  let lineItems = deal.lineItems;
  let amount: number;
  try {
    if (lineItemsInput) lineItems = priceLineItems(lineItemsInput);
    if (parsed.exchangeRate !== undefined) {
      const rate = parsed.exchangeRate;
      lineItems = priceLineItems(lineItems.map(({ total: _total, ...item }) => ({ ...item, unitPrice: convertAmount(item.unitPrice, from, currency, rate) })));
      amount = lineItems.length ? dealAmount(lineItems, undefined) : convertAmount(deal.value.amount, from, currency, rate);
      if (!Number.isSafeInteger(amount)) throw inexactAmount(`the converted amount exceeds ${Number.MAX_SAFE_INTEGER} minor units`);
    } else amount = dealAmount(lineItems, parsed.value ?? (lineItems.length ? undefined : deal.value));
  } catch (error) {
    const path = parsed.exchangeRate !== undefined ? 'exchangeRate' : 'lineItems';
    throw validationError('deals.update', [{ path: [path], code: 'too_big', message: (error as Error).message }]);
  }
  const manual = parsed.probability === null ? false : parsed.probability !== undefined ? true : deal.probabilityManual;
  const probability = deal.status !== 'open' ? deal.probability : manual ? (parsed.probability ?? deal.probability) : stageProbability;

  const next = reviseRecord(deal, op.now, (draft) => {
    applyPatch(draft as unknown as Record<string, unknown>, parsed, EDITABLE);
    applyPatch(draft as unknown as Record<string, unknown>, { custom: custom.values }, ['custom']);
    if (lineItemsInput || parsed.exchangeRate !== undefined) draft.lineItems = lineItems;
    if (draft.expectedCloseDate) draft.expectedCloseMonth = draft.expectedCloseDate.slice(0, 7);
    else delete draft.expectedCloseMonth;
    const money = valueFields(amount, currency, probability);
    applyPatch(draft as unknown as Record<string, unknown>, { ...money, probability, probabilityManual: manual }, [
      'value', 'weightedValue', 'probability', 'probabilityManual',
    ]);
  });
  if (next === deal) return deal;
  // Any change is activity on the deal: it restarts the rotting clock.
  const stored = produce(next, (draft) => {
    draft.lastActivityAt = later(draft.lastActivityAt, op.now);
    delete draft.rottingSince;
  });
  op.guard?.checkWritten('deal', 'update', deal, stored);
  await op.update('deal', deal, stored);
  op.record('deal.updated', { type: 'deal', id: deal.id }, { changes: diffRecords(deal, stored, ['lastActivityAt', 'rottingSince']) }, dealRefs(stored));
  return stored;
}

/** How `upsertByExternalRef` creates and updates deals. */
function dealRefTarget(ctx: CrmContext): ExternalRefTarget<Deal> {
  return {
    entity: 'deal',
    name: 'deals',
    parseCreate: (input, context) => parseDealInput(ctx, input, context) as unknown as Record<string, unknown>,
    create: async (op, parsed) => (await createDealIn(op, parsed as unknown as Parameters<typeof createDealIn>[1], 'deals.upsertByExternalRef')).deal,
    updateSchema: dealUpdateInputSchema,
    update: (op, id, patch) => updateDealIn(op, id, patch),
  };
}

/**
 * Deals: the orders moving through a pipeline. `crm.deals`.
 */
export class DealService {
  /** @internal */
  constructor(protected readonly ctx: CrmContext) {}

  /**
   * Creates a deal in a pipeline's stage (default: first pipeline, first open stage). With line
   * items, the amount is their sum; the probability follows the stage unless given.
   *
   * @example
   * const deal = await crm.deals.create({
   *   title: '40 office chairs', contactId: contact.id, currency: 'EUR',
   *   lineItems: [{ name: 'Chair', quantity: 40, unitPrice: 129_00 }],
   * });
   */
  async create(input: DealCreateInput): Promise<Deal> {
    const parsed = parseDealInput(this.ctx, input, 'deals.create');
    return runWrite(this.ctx, async (op) => (await createDealIn(op, parsed, 'deals.create')).deal);
  }

  /** Reads a deal. @throws CrmError `NOT_FOUND`. */
  get(id: string): Promise<Deal> {
    return readRecord<Deal>(this.ctx, 'deal', id, 'deals.get');
  }

  /**
   * Reads the deal linked to a record of another system.
   *
   * @param system The other system (`shop`, `erp`).
   * @param id The record's id there.
   * @returns The deal.
   * @throws CrmError `VALIDATION` for a malformed system or id; `NOT_FOUND` when no deal holds the
   *   ref (or, in a view, it lies outside the read scope).
   * @example
   * const found = await crm.deals.getByExternalRef('shop', '10042');
   */
  async getByExternalRef(system: string, id: string): Promise<Deal> {
    return readByExternalRef<Deal>(this.ctx, 'deal', 'deals', system, id);
  }

  /**
   * Creates the deal linked to `(system, id)` with `input`, or updates the one that exists, in one
   * transaction; idempotent on retry (see `upsertByExternalRef`).
   * On an existing deal only `update`'s fields apply: its pipeline and stage move through the funnel calls.
   *
   * @returns The record and whether it was `created`, `updated` or `unchanged`.
   * @throws CrmError `VALIDATION`, `CONFLICT` (`expectedVersion` differs), `NOT_FOUND`/`FORBIDDEN` in a view.
   */
  async upsertByExternalRef(system: string, id: string, input: DealCreateInput, options?: UpsertOptions): Promise<UpsertResult<Deal>> {
    return upsertByExternalRef(this.ctx, dealRefTarget(this.ctx), system, id, input, options);
  }

  /**
   * Changes a deal's fields (not its stage: use the funnel moves). Replacing `lineItems` re-prices
   * the deal; a manual `probability` sticks until the stage changes, `null` returns to the stage's.
   */
  async update(id: string, patch: DealUpdateInput): Promise<Deal> {
    const dealId = parseId(id, 'deals.update');
    const parsed = parseInput(dealUpdateInputSchema, patch, 'deals.update');
    return runWrite(this.ctx, (op) => updateDealIn(op, dealId, parsed));
  }

  /**
   * Reads a pipeline board: a page of cards per stage, with count and money totals per stage.
   * In a view the cards are in the default order only where `stageEnteredAt` is readable (else newest first).
   *
   * @throws CrmError `NOT_FOUND` for an unknown pipeline; `FORBIDDEN` in a view that may not read a deal's
   *   `stageKey` or `pipelineId` (a board is made of them), or filters or sorts by a hidden field.
   * @example
   * const board = await crm.deals.board(pipeline.id, { limitPerStage: 50, where: where.eq('ownerId', 'u1') });
   */
  async board(pipelineId: string, options?: BoardOptions): Promise<Board> {
    return readBoard(this.ctx, pipelineId, options);
  }

  /**
   * Lists deals (newest first by default). Filter by stage, owner, status, amount, custom fields…
   * With `rotting: true`, only open deals idle for longer than their stage's `rottenDays`, judged now.
   *
   * @example
   * const stale = await crm.deals.list({ rotting: true, where: where.eq('ownerId', 'anna') });
   */
  async list(input?: DealListOptions): Promise<Page<Deal>> {
    const options = copyInput(input, 'deals.list');
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      throw validationError('deals.list', [{ path: [], code: 'invalid_type', message: 'must be an options object' }]);
    }
    const { rotting, ...rest } = (options ?? {}) as DealListOptions;
    if (rotting !== undefined && rotting !== true) {
      throw validationError('deals.list', [{ path: ['rotting'], code: 'invalid_value', message: 'must be true when given' }]);
    }
    return runRead(this.ctx, async (op) => {
      if (!rotting) return listRecords<Deal>(op, 'deal', rest, 'deals.list');
      // Rotting is what `rottingSince` says (stage, status, activity): a view must read it, whatever the stages.
      op.guard?.checkReadFields('deal', ['rottingSince'], 'deals.list');
      return listRecords<Deal>(op, 'deal', rest, 'deals.list', undefined, await rottingFilter(op));
    });
  }

  /**
   * Every stage visit of a deal, oldest first: when it entered and left each stage, who moved it,
   * how it left, and how often its next step was postponed meanwhile. A removed deal keeps its history.
   *
   * @throws CrmError `NOT_FOUND` for a deal the tenant never had, or (in a view) one the principal may
   *   not read (a removed deal: unless it reads every deal). In a view each visit lacks the fields it
   *   copies from deal fields the principal may not read (its owner, stages, exit, outcome, times).
   */
  async stageHistory(id: string): Promise<StageVisit[]> {
    const dealId = parseId(id, 'deals.stageHistory');
    return runRead(this.ctx, async (op) => {
      await op.requireReadableHistory<Deal>('deal', dealId);
      const { rows } = await op.query<StageVisit>('stageVisit', {
        filter: { op: 'eq', field: 'dealId', value: dealId },
        sort: [{ field: 'enteredAt' }, { field: 'id' }],
      });
      return rows;
    });
  }

  /**
   * The productive next step: moves the deal to the next open stage, or to `toStage` (skips and
   * backward moves as the pipeline allows). Entry and exit rules are checked; the target stage's
   * task templates create tasks.
   *
   * @throws CrmError `RULE_VIOLATION` listing every violated rule; nothing is written.
   * @example
   * await crm.deals.advance(deal.id, { nextStep: { subject: 'Send proposal', type: 'email', dueAt: '2026-03-02T10:00:00Z' } });
   */
  async advance(id: string, options: { toStage?: string } & MoveWithNextStepOptions = {}): Promise<Deal> {
    return dealMove(this.ctx, 'advance', id, options);
  }

  /**
   * Postpones the next step: moves the deal's next open task (or `taskId`) to `until`, with a reason.
   * Postponements are counted per deal and per stage visit. Without an open task, a follow-up is created.
   */
  async postpone(id: string, options: { until: string; reason?: string; taskId?: string } & MoveOptions): Promise<Deal> {
    return dealMove(this.ctx, 'postpone', id, options);
  }

  /**
   * The client's refusal: closes the deal as lost with a reason from the pipeline's list (and a
   * comment where the reason requires one). Open tasks of the deal are cancelled.
   */
  async lose(id: string, options: { reason: string; comment?: string } & MoveOptions): Promise<Deal> {
    return dealMove(this.ctx, 'lose', id, options);
  }

  /** Closes the deal as won: probability 100, `closedAt` set. Exit rules of its stage and entry rules of the won stage apply. */
  async win(id: string, options: { stageKey?: string } & MoveOptions = {}): Promise<Deal> {
    return dealMove(this.ctx, 'win', id, options);
  }

  /** Returns a won or lost deal to an open stage. */
  async reopen(id: string, options: { toStage: string } & MoveWithNextStepOptions): Promise<Deal> {
    return dealMove(this.ctx, 'reopen', id, options);
  }

  /**
   * Groups deals and computes metrics in storage (SQL GROUP BY where available).
   *
   * @example
   * await crm.deals.aggregate({ where: where.eq('pipelineId', id), groupBy: ['stageKey'],
   *   metrics: { deals: { fn: 'count' }, total: { fn: 'sum', field: 'value.amount' } } });
   */
  async aggregate(options: AggregateOptions<DealField>): Promise<AggregateRow[]> {
    return readAggregate(this.ctx, 'deal', options, 'deals.aggregate');
  }

  /**
   * Deletes a deal. Its events and stage history stay in the log (the open visit is closed as `removed`).
   */
  async remove(id: string, options: { version?: number } = {}): Promise<void> {
    const dealId = parseId(id, 'deals.remove');
    const { version } = parseInput(z.strictObject({ version: versionOptionSchema }), options, 'deals.remove');
    return runWrite(this.ctx, async (op) => {
      const deal = await op.requireFor<Deal>('deal', dealId, 'delete');
      assertExpectedVersion('deal', deal, version);
      await closeOpenVisit(op, deal, { exitKind: 'removed' });
      await op.remove('deal', deal);
      op.record('deal.removed', { type: 'deal', id: deal.id }, { deal }, dealRefs(deal));
    });
  }
}

import * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';
import { idSchema, timestampInputSchema, userIdSchema, currencySchema, int } from '../schema/primitives.js';
import type { CrmContext } from '../crm/context.js';
import { listRecords, type Page } from '../crm/list-options.js';
import { runRead } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import { customerReport, type CustomerReport, type CustomerReportOptions } from './customer-report.js';
import { forecastReport, type ForecastOptions, type ForecastReport } from './forecast-report.js';
import { funnelReport, type FunnelReport, type FunnelReportOptions } from './funnel-report.js';
import { performanceReport, type PerformanceOptions, type PerformanceReport } from './performance-report.js';
import type { DrillDown } from './report-types.js';
import { velocityReport, type VelocityOptions, type VelocityReport } from './velocity-report.js';

const month = z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM'));
const period = { from: timestampInputSchema, to: timestampInputSchema };

const funnelSchema = z.strictObject({ pipelineId: idSchema, ...period, ownerId: z.optional(userIdSchema) });
const velocitySchema = z.strictObject({ ...period, pipelineId: z.optional(idSchema), ownerId: z.optional(userIdSchema) });
const forecastSchema = z.strictObject({
  pipelineId: idSchema,
  by: z.literal('month'),
  from: z.optional(month),
  to: z.optional(month),
  ownerId: z.optional(userIdSchema),
  convert: z.optional(z.strictObject({ base: currencySchema, rates: z.record(currencySchema, z.number().check(z.gt(0))) })),
});
const performanceSchema = z.strictObject({ ...period, pipelineId: z.optional(idSchema) });
const customersSchema = z.strictObject({
  inactiveDays: z.optional(z.number().check(int(), z.gte(1), z.lte(3650))),
  currency: z.optional(currencySchema),
  limit: z.optional(z.number().check(int(), z.gte(1), z.lte(1000))),
  cursor: z.optional(z.string().check(z.maxLength(4096))),
});
const DRILL_ENTITIES = ['deal', 'stageVisit', 'lead', 'task', 'event', 'contact', 'company'] as const;

function checkPeriod(options: { from: string; to: string }, context: string): void {
  if (options.from >= options.to) throw validationError(context, [{ path: ['to'], code: 'invalid_value', message: 'must be after from' }]);
}

/**
 * Analytics pushed down to storage: funnel conversion, velocity, forecast, performance per manager,
 * customer value. Every figure carries a drill-down; every report has plain `rows` for tables and
 * `toCsv`. `crm.reports`, with the `reports()` feature. In a view every figure counts only the rows the
 * principal may read, and a report that filters, groups or sums a field it may not read is refused
 * with `FORBIDDEN` naming the fields (docs/access-control.md, "Reads made of fields").
 */
export class ReportService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Per stage: deals that entered in the period, advanced, were lost, moved back or are still there;
   * conversion to the next stage, cumulative conversion to won, mean and median time in stage.
   *
   * @example
   * const { stages } = await crm.reports.funnel({ pipelineId, from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' });
   * @throws CrmError `NOT_FOUND` when `pipelineId` is no pipeline of the tenant; `VALIDATION` for bad options;
   *   `FORBIDDEN` in a view that may not read a deal's `stageKey`, `status`, `stageEnteredAt` (or `ownerId` when given).
   */
  async funnel(options: FunnelReportOptions): Promise<FunnelReport> {
    const parsed = parseInput(funnelSchema, options, 'reports.funnel');
    checkPeriod(parsed, 'reports.funnel');
    return runRead(this.ctx, (op) => {
      op.guard?.require('report', 'read');
      return funnelReport(op, parsed);
    });
  }

  /**
   * Win rate, mean sales cycle, average won amount and pipeline velocity, per currency.
   *
   * @throws CrmError `NOT_FOUND` when `pipelineId` is given and is no pipeline of the tenant; `VALIDATION` for bad options.
   */
  async velocity(options: VelocityOptions): Promise<VelocityReport> {
    const parsed = parseInput(velocitySchema, options, 'reports.velocity');
    checkPeriod(parsed, 'reports.velocity');
    return runRead(this.ctx, (op) => {
      op.guard?.require('report', 'read');
      return velocityReport(op, parsed);
    });
  }

  /**
   * Open deals by expected close month: amount and weighted amount per currency, or converted with
   * the rates given (deals in currencies without a rate are listed, not dropped).
   *
   * @throws CrmError `NOT_FOUND` when `pipelineId` is no pipeline of the tenant; `VALIDATION` for bad options.
   */
  async forecast(options: ForecastOptions): Promise<ForecastReport> {
    const parsed = parseInput(forecastSchema, options, 'reports.forecast');
    return runRead(this.ctx, (op) => {
      op.guard?.require('report', 'read');
      return forecastReport(op, parsed);
    });
  }

  /**
   * Per owner: leads assigned and converted, deals won and lost with value, win rate, cycle, tasks, postponements.
   *
   * @throws CrmError `NOT_FOUND` when `pipelineId` is given and is no pipeline of the tenant; `VALIDATION` for bad options;
   *   `FORBIDDEN` in a view that may not read the owners, statuses or close and due times it counts by.
   */
  async performance(options: PerformanceOptions): Promise<PerformanceReport> {
    const parsed = parseInput(performanceSchema, options, 'reports.performance');
    checkPeriod(parsed, 'reports.performance');
    return runRead(this.ctx, (op) => {
      op.guard?.require('report', 'read');
      return performanceReport(op, parsed);
    });
  }

  /**
   * Lifetime value per contact and company, last interaction, days inactive and the at-risk list: a
   * page of each list (`limit`, default 100), and `nextCursor` while either has more customers.
   *
   * @example
   * let page = await crm.reports.customers({ limit: 500 });
   * while (page.nextCursor) page = await crm.reports.customers({ limit: 500, cursor: page.nextCursor });
   * @throws CrmError `VALIDATION` for bad options or a cursor of another report or currency.
   */
  async customers(options: CustomerReportOptions = {}): Promise<CustomerReport> {
    const parsed = parseInput(customersSchema, options, 'reports.customers');
    return runRead(this.ctx, (op) => {
      op.guard?.require('report', 'read');
      return customerReport(op, parsed);
    });
  }

  /**
   * The records behind a figure, a page at a time.
   *
   * @example
   * const lostDeals = await crm.reports.drill(report.stages[1].drill.lost, { limit: 50 });
   */
  async drill(drill: DrillDown, options: { limit?: number; cursor?: string } = {}): Promise<Page<RecordBase>> {
    const parsed = parseInput(z.strictObject({ entity: z.enum(DRILL_ENTITIES), where: z.unknown() }), drill, 'reports.drill');
    return runRead(this.ctx, (op) => {
      op.guard?.require('report', 'read');
      // Drill-down lists only rows the principal may read: never an invisible id.
      return listRecords(op, parsed.entity, { where: parsed.where, orderBy: [{ field: 'id' }], ...options }, 'reports.drill');
    });
  }
}

import { convertMinor, type ExchangeRates } from '../domain/analytics/currency.js';
import type { Filter } from '../query/query-spec.js';
import type { Deal } from '../schema/deal.js';
import type { Operation } from '../crm/operation.js';
import { scopedAggregate, scopedQuery } from '../crm/list-options.js';
import { major, requireFields, type DrillDown, type TabularReport } from './report-types.js';

export interface ForecastOptions {
  readonly pipelineId: string;
  readonly by: 'month';
  /** First month `YYYY-MM` (inclusive); deals without an expected close date are reported when no range is given. */
  readonly from?: string;
  /** Last month `YYYY-MM` (inclusive). */
  readonly to?: string;
  readonly ownerId?: string;
  /** Convert every amount into one currency with these rates. */
  readonly convert?: ExchangeRates;
}

export interface ForecastAmount {
  readonly currency: string;
  readonly deals: number;
  readonly amount: number;
  readonly weighted: number;
}

export interface ForecastMonth {
  /** `YYYY-MM`, or `null` for open deals without an expected close date. */
  readonly month: string | null;
  readonly byCurrency: readonly ForecastAmount[];
  /** Sum in `convert.base`, when rates were given. */
  readonly converted?: { readonly currency: string; readonly amount: number; readonly weighted: number };
  /** Deals whose currency has no rate: listed (every one of them), not dropped. */
  readonly unconverted: readonly { readonly currency: string; readonly dealIds: readonly string[]; readonly amount: number; readonly weighted: number }[];
  readonly drill: DrillDown;
}

export interface ForecastReport extends TabularReport {
  readonly months: readonly ForecastMonth[];
}

/** Ids of every deal matching `filter`, read a page at a time (a listed figure is never cut short). */
async function dealIdsOf(op: Operation, filter: Filter): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await scopedQuery<Deal>(op, 'deal', { filter, sort: [{ field: 'id' }], limit: 1000, ...(after ? { after } : {}) }, 'reports.forecast');
    for (const deal of page.rows) ids.push(deal.id);
    after = page.nextCursor;
  } while (after);
  return ids;
}

/** Open deals by expected close month: amount and weighted amount per currency, optionally converted. */
export async function forecastReport(op: Operation, options: ForecastOptions): Promise<ForecastReport> {
  await op.require('pipeline', options.pipelineId);
  const scope: Filter[] = [
    { op: 'eq', field: 'pipelineId', value: options.pipelineId },
    { op: 'eq', field: 'status', value: 'open' },
    ...(options.ownerId ? [{ op: 'eq' as const, field: 'ownerId', value: options.ownerId }] : []),
    ...(options.from ? [{ op: 'gte' as const, field: 'expectedCloseMonth', value: options.from }] : []),
    ...(options.to ? [{ op: 'lte' as const, field: 'expectedCloseMonth', value: options.to }] : []),
  ];
  // Amounts, weighted amounts (probability) and months (expected close date) are all figures of hidden-able fields.
  requireFields(op, 'forecast', 'deal', ['value', 'weightedValue', 'expectedCloseMonth', 'status']);
  const groups = await scopedAggregate(op, 'deal', {
    filter: { op: 'and', filters: scope },
    groupBy: ['expectedCloseMonth', 'value.currency'],
    metrics: { deals: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' }, weighted: { fn: 'sum', field: 'weightedValue.amount' } },
  }, 'reports.forecast');
  const months = [...new Set(groups.map((g) => g.group.expectedCloseMonth as string | null))];
  const result: ForecastMonth[] = [];
  for (const month of months) {
    const mine = groups.filter((g) => g.group.expectedCloseMonth === month);
    const monthFilter: Filter = { op: 'and', filters: [...scope, { op: 'eq', field: 'expectedCloseMonth', value: month }] };
    const byCurrency = mine.map((g) => ({ currency: String(g.group['value.currency']), deals: g.values.deals as number, amount: g.values.amount as number, weighted: g.values.weighted as number }));
    const unconverted: ForecastMonth['unconverted'][number][] = [];
    let converted: ForecastMonth['converted'];
    if (options.convert) {
      let amount = 0;
      let weighted = 0;
      for (const c of byCurrency) {
        const a = convertMinor(c.amount, c.currency, options.convert);
        const w = convertMinor(c.weighted, c.currency, options.convert);
        if (a === undefined || w === undefined) {
          unconverted.push({ currency: c.currency, dealIds: await dealIdsOf(op, { op: 'and', filters: [monthFilter, { op: 'eq', field: 'value.currency', value: c.currency }] }), amount: c.amount, weighted: c.weighted });
        } else {
          amount += a;
          weighted += w;
        }
      }
      converted = { currency: options.convert.base, amount, weighted };
    }
    result.push({ month, byCurrency, ...(converted ? { converted } : {}), unconverted, drill: { entity: 'deal', where: monthFilter } });
  }
  return {
    months: result,
    rows: result.flatMap((m) =>
      m.byCurrency.map((c) => ({
        month: m.month,
        currency: c.currency,
        deals: c.deals,
        amount: major(c.amount, c.currency),
        weighted: major(c.weighted, c.currency),
        ...(m.converted ? { convertedCurrency: m.converted.currency, convertible: !m.unconverted.some((u) => u.currency === c.currency) } : {}),
      })),
    ),
  };
}

import { divideHalfEven } from '../domain/money.js';
import type { Filter } from '../query/query-spec.js';
import type { Operation } from '../crm/operation.js';
import { scopedAggregate } from '../crm/list-options.js';
import { major, ratio, requireFields, type DrillDown, type TabularReport } from './report-types.js';

export interface VelocityOptions {
  /** Deals closed from this instant (inclusive)… */
  readonly from: string;
  /** …to this one (exclusive). */
  readonly to: string;
  readonly pipelineId?: string;
  readonly ownerId?: string;
}

/** Sales velocity of one currency. */
export interface VelocityRow {
  readonly currency: string;
  readonly won: number;
  readonly lost: number;
  /** won ÷ (won + lost), `null` when nothing closed. */
  readonly winRate: number | null;
  /** Mean days from creation to winning, over deals won in the period. */
  readonly meanCycleDays: number | null;
  /** Mean value of deals won in the period, minor units (rounded half-even). */
  readonly averageWonAmount: number | null;
  /** Open deals now. */
  readonly openDeals: number;
  /** openDeals × winRate × averageWonAmount ÷ meanCycleDays: expected revenue per day, minor units. */
  readonly velocityPerDay: number | null;
  readonly drill: { readonly won: DrillDown; readonly lost: DrillDown; readonly open: DrillDown };
}

export interface VelocityReport extends TabularReport {
  readonly currencies: readonly VelocityRow[];
  /** Win rate over every currency. */
  readonly winRate: number | null;
}

const DAY = 86_400_000;

/** Win rate, cycle length, average deal and pipeline velocity, per currency, counted in storage. */
export async function velocityReport(op: Operation, options: VelocityOptions): Promise<VelocityReport> {
  requireFields(op, 'velocity', 'deal', ['value', 'status', 'closedAt', 'cycleMs']);
  // A report about a pipeline that does not exist is NOT_FOUND, not a report of zeros.
  if (options.pipelineId) await op.require('pipeline', options.pipelineId);
  const scope: Filter[] = [
    ...(options.pipelineId ? [{ op: 'eq' as const, field: 'pipelineId', value: options.pipelineId }] : []),
    ...(options.ownerId ? [{ op: 'eq' as const, field: 'ownerId', value: options.ownerId }] : []),
  ];
  const closed = (status: string): Filter => ({
    op: 'and',
    filters: [...scope, { op: 'eq', field: 'status', value: status }, { op: 'gte', field: 'closedAt', value: options.from }, { op: 'lt', field: 'closedAt', value: options.to }],
  });
  const open: Filter = { op: 'and', filters: [...scope, { op: 'eq', field: 'status', value: 'open' }] };
  const closedRows = await scopedAggregate(op, 'deal', {
    filter: { op: 'or', filters: [closed('won'), closed('lost')] },
    groupBy: ['value.currency', 'status'],
    metrics: { n: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' }, cycle: { fn: 'avg', field: 'cycleMs' } },
  }, 'reports.velocity');
  const openRows = await scopedAggregate(op, 'deal', { filter: open, groupBy: ['value.currency'], metrics: { n: { fn: 'count' } } }, 'reports.velocity');
  const currencies = [...new Set([...closedRows.map((r) => String(r.group['value.currency'])), ...openRows.map((r) => String(r.group['value.currency']))])].sort();
  const currencyFilter = (c: string): Filter => ({ op: 'eq', field: 'value.currency', value: c });
  const rows = currencies.map((currency): VelocityRow => {
    const pick = (status: string) => closedRows.find((r) => r.group['value.currency'] === currency && r.group.status === status);
    const won = (pick('won')?.values.n as number) ?? 0;
    const lost = (pick('lost')?.values.n as number) ?? 0;
    const openDeals = (openRows.find((r) => r.group['value.currency'] === currency)?.values.n as number) ?? 0;
    const winRate = ratio(won, won + lost);
    const cycleMs = pick('won')?.values.cycle as number | null | undefined;
    const meanCycleDays = cycleMs == null ? null : cycleMs / DAY;
    const averageWonAmount = won ? Number(divideHalfEven(BigInt(pick('won')!.values.amount as number), BigInt(won))) : null;
    const velocityPerDay =
      winRate === null || averageWonAmount === null || !meanCycleDays ? null : Math.round((openDeals * winRate * averageWonAmount) / meanCycleDays);
    return {
      currency, won, lost, winRate, meanCycleDays, averageWonAmount, openDeals, velocityPerDay,
      drill: {
        won: { entity: 'deal', where: { op: 'and', filters: [closed('won'), currencyFilter(currency)] } },
        lost: { entity: 'deal', where: { op: 'and', filters: [closed('lost'), currencyFilter(currency)] } },
        open: { entity: 'deal', where: { op: 'and', filters: [open, currencyFilter(currency)] } },
      },
    };
  });
  const won = rows.reduce((n, r) => n + r.won, 0);
  const lost = rows.reduce((n, r) => n + r.lost, 0);
  return { currencies: rows, winRate: ratio(won, won + lost), rows: rows.map(({ drill: _drill, ...row }) => ({ ...row, averageWonAmount: major(row.averageWonAmount, row.currency), velocityPerDay: major(row.velocityPerDay, row.currency) })) };
}

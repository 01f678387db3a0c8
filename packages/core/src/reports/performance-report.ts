import type { AggregateRow } from '../query/query-spec.js';
import type { Filter } from '../query/query-spec.js';
import type { Operation } from '../crm/operation.js';
import { scopedAggregate } from '../crm/list-options.js';
import type { RecordBase } from '../schema/record.js';
import { moneyList, ratio, type CurrencyAmount, type DrillDown, type TabularReport } from './report-types.js';

export interface PerformanceOptions {
  readonly from: string;
  readonly to: string;
  readonly pipelineId?: string;
}

/** One manager's results in the period. */
export interface OwnerPerformance {
  readonly ownerId: string;
  /** Leads created in the period and owned by the manager. */
  readonly leadsAssigned: number;
  /** Leads converted in the period. */
  readonly leadsConverted: number;
  readonly dealsWon: number;
  readonly dealsLost: number;
  readonly wonValue: readonly CurrencyAmount[];
  readonly winRate: number | null;
  /** Mean days from creation to winning of deals won in the period. */
  readonly meanCycleDays: number | null;
  /** Tasks completed in the period. */
  readonly tasksDone: number;
  /** Open tasks past their deadline now (all-day tasks: once their local day is over). */
  readonly tasksOverdue: number;
  /** Deal next steps the manager postponed in the period. */
  readonly postponements: number;
  readonly drill: { readonly won: DrillDown; readonly lost: DrillDown; readonly tasksDone: DrillDown; readonly postponements: DrillDown };
}

export interface PerformanceReport extends TabularReport {
  readonly owners: readonly OwnerPerformance[];
}

const DAY = 86_400_000;

/**
 * Postponements credited to who postponed. In a view only those of deals it may read now count, as
 * in the drill-down (which shows the events whose subject is readable): grouped by deal, then the
 * deals judged with the view's read rules (a removed deal counts for those who read every deal).
 */
async function postponementsByActor(op: Operation, filter: Filter, pipelineId: string | undefined): Promise<{ rows: AggregateRow[]; deals: Map<string, string[]> }> {
  const deals = new Map<string, string[]>();
  if (!pipelineId && (!op.guard || op.guard.reachesAll('deal', 'read'))) return { rows: await op.tx.aggregate('event', op.tenantId, { filter, groupBy: ['actorId'], metrics: { n: { fn: 'count' } } }), deals };
  // Events carry no pipeline: with `pipelineId` (or a partial view) each postponed deal is read to judge it.
  const rows = await op.tx.aggregate('event', op.tenantId, { filter, groupBy: ['actorId', 'subjectId'], metrics: { n: { fn: 'count' } } });
  const ids = [...new Set(rows.map((r) => String(r.group.subjectId)))];
  const kept = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const found = await op.getMany<RecordBase & { pipelineId?: string }>('deal', chunk);
    found.forEach((deal, j) => {
      // A removed deal counts only for a principal who reads every deal, and in no one pipeline.
      const readable = deal ? !op.guard || op.guard.canRead('deal', deal) : !op.guard || op.guard.reachesAll('deal', 'read');
      if (readable && (!pipelineId || deal?.pipelineId === pipelineId)) kept.add(chunk[j]!);
    });
  }
  const byActor = new Map<AggregateRow['group'][string], number>();
  for (const r of rows) {
    const subjectId = String(r.group.subjectId);
    if (!kept.has(subjectId)) continue;
    const actor = r.group.actorId ?? null;
    byActor.set(actor, (byActor.get(actor) ?? 0) + (r.values.n as number));
    if (pipelineId) deals.set(String(actor), [...(deals.get(String(actor)) ?? []), subjectId]);
  }
  return { rows: [...byActor].map(([actorId, n]) => ({ group: { actorId }, values: { n } })), deals };
}

/** Per owner: leads, deals won and lost with value, win rate, cycle, tasks, postponements — counted in storage. */
export async function performanceReport(op: Operation, options: PerformanceOptions): Promise<PerformanceReport> {
  // A report about a pipeline that does not exist is NOT_FOUND, not a report of zeros.
  if (options.pipelineId) await op.require('pipeline', options.pipelineId);
  const inPeriod = (field: string): Filter[] => [{ op: 'gte', field, value: options.from }, { op: 'lt', field, value: options.to }];
  const pipeline: Filter[] = options.pipelineId ? [{ op: 'eq', field: 'pipelineId', value: options.pipelineId }] : [];
  // In a view every figure counts only rows the principal may read (the scope is pushed down), and the
  // fields it groups and filters by (owners, statuses, close and due times) must be readable.
  const byOwner = async (entity: string, filters: Filter[], groupBy: string[] = ['ownerId'], metrics: Record<string, { fn: 'count' } | { fn: 'sum' | 'avg'; field: string }> = { n: { fn: 'count' } }) =>
    scopedAggregate(op, entity, { filter: { op: 'and', filters }, groupBy, metrics }, 'reports.performance');
  // Amounts are left out for a principal who may not read them.
  const money = !op.guard || op.guard.readable('deal', 'value');

  const leads = await byOwner('lead', inPeriod('createdAt'));
  const converted = await byOwner('lead', inPeriod('convertedAt'));
  const closedFilter = (status: string): Filter[] => [...pipeline, { op: 'eq', field: 'status', value: status }, ...inPeriod('closedAt')];
  const won = await byOwner(
    'deal',
    closedFilter('won'),
    money ? ['ownerId', 'value.currency'] : ['ownerId'],
    money ? { n: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' }, cycle: { fn: 'sum', field: 'cycleMs' } } : { n: { fn: 'count' }, cycle: { fn: 'sum', field: 'cycleMs' } },
  );
  const lost = await byOwner('deal', closedFilter('lost'));
  const done = await byOwner('task', [{ op: 'eq', field: 'status', value: 'done' }, ...inPeriod('completedAt')]);
  const overdue = await byOwner('task', [{ op: 'eq', field: 'status', value: 'open' }, { op: 'lt', field: 'deadlineAt', value: op.now }]);
  const { rows: postponed, deals: postponedDeals } = await postponementsByActor(op, { op: 'and', filters: [{ op: 'eq', field: 'type', value: 'deal.postponed' }, ...inPeriod('at')] }, options.pipelineId);

  const count = (rows: typeof leads, id: string, key = 'ownerId') => rows.filter((r) => r.group[key] === id).reduce((n, r) => n + (r.values.n as number), 0);
  const owners = new Set<string>();
  for (const rows of [leads, converted, won, lost, done, overdue]) for (const r of rows) if (r.group.ownerId !== null) owners.add(String(r.group.ownerId));
  for (const r of postponed) if (r.group.actorId !== null) owners.add(String(r.group.actorId));

  const result = [...owners].sort().map((ownerId): OwnerPerformance => {
    const mineWon = won.filter((r) => r.group.ownerId === ownerId);
    const dealsWon = mineWon.reduce((n, r) => n + (r.values.n as number), 0);
    const dealsLost = count(lost, ownerId);
    const cycle = mineWon.reduce((n, r) => n + (r.values.cycle as number), 0);
    const owner: Filter = { op: 'eq', field: 'ownerId', value: ownerId };
    return {
      ownerId,
      leadsAssigned: count(leads, ownerId),
      leadsConverted: count(converted, ownerId),
      dealsWon,
      dealsLost,
      wonValue: money ? mineWon.map((r) => ({ currency: String(r.group['value.currency']), amount: r.values.amount as number })) : [],
      winRate: ratio(dealsWon, dealsWon + dealsLost),
      meanCycleDays: dealsWon ? cycle / dealsWon / DAY : null,
      tasksDone: count(done, ownerId),
      tasksOverdue: count(overdue, ownerId),
      postponements: count(postponed, ownerId, 'actorId'),
      drill: {
        won: { entity: 'deal', where: { op: 'and', filters: [...closedFilter('won'), owner] } },
        lost: { entity: 'deal', where: { op: 'and', filters: [...closedFilter('lost'), owner] } },
        tasksDone: { entity: 'task', where: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'done' }, ...inPeriod('completedAt'), owner] } },
        postponements: {
          entity: 'event',
          where: {
            op: 'and',
            filters: [
              { op: 'eq', field: 'type', value: 'deal.postponed' },
              ...inPeriod('at'),
              { op: 'eq', field: 'actorId', value: ownerId },
              // Of the pipeline's deals only (events carry no pipeline).
              ...(options.pipelineId ? [{ op: 'in', field: 'subjectId', values: postponedDeals.get(ownerId) ?? [] } as Filter] : []),
            ],
          },
        },
      },
    };
  });
  return {
    owners: result,
    rows: result.map(({ drill: _drill, wonValue, ...row }) => ({ ...row, wonValue: moneyList(wonValue) })),
  };
}

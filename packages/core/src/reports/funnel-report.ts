import type { Filter } from '../query/query-spec.js';
import type { Pipeline, StageKind } from '../schema/pipeline.js';
import type { Operation } from '../crm/operation.js';
import { scopedAggregate } from '../crm/list-options.js';
import { ratio, type DrillDown, type TabularReport } from './report-types.js';

export interface FunnelReportOptions {
  readonly pipelineId: string;
  /** Stage entries from this instant (inclusive)… */
  readonly from: string;
  /** …to this one (exclusive). */
  readonly to: string;
  /** Only deals owned by this user when they entered the stage. */
  readonly ownerId?: string;
}

export interface FunnelStage {
  readonly stageKey: string;
  readonly name: string;
  readonly kind: StageKind;
  /** Entries into the stage in the period. */
  readonly entered: number;
  /** Of those, left forward (to a later stage or won). */
  readonly advanced: number;
  readonly lost: number;
  readonly movedBack: number;
  /** Left otherwise: the stage was removed, the deal deleted, a closed deal reopened. */
  readonly otherExits: number;
  /** Still in the stage. entered = advanced + lost + movedBack + otherExits + inStage. */
  readonly inStage: number;
  /** advanced ÷ entered (0–1), `null` without entries. */
  readonly conversion: number | null;
  /** Entries whose deal was eventually won ÷ entered. */
  readonly cumulativeWon: number | null;
  readonly meanTimeMs: number | null;
  readonly medianTimeMs: number | null;
  readonly drill: { readonly entered: DrillDown; readonly advanced: DrillDown; readonly lost: DrillDown; readonly inStage: DrillDown; readonly won: DrillDown };
}

export interface FunnelReport extends TabularReport {
  readonly pipelineId: string;
  readonly from: string;
  readonly to: string;
  readonly stages: readonly FunnelStage[];
}

const ADVANCED = new Set(['advanced', 'won']);
const OTHER = new Set(['stageRemoved', 'removed', 'reopened']);

/** Per stage of a pipeline: entries, exits by kind, conversion, eventual wins, time in stage — all counted in storage. */
export async function funnelReport(op: Operation, options: FunnelReportOptions): Promise<FunnelReport> {
  const pipeline = await op.require<Pipeline>('pipeline', options.pipelineId);
  const scope: Filter[] = [
    { op: 'eq', field: 'pipelineId', value: pipeline.id },
    { op: 'gte', field: 'enteredAt', value: options.from },
    { op: 'lt', field: 'enteredAt', value: options.to },
    ...(options.ownerId ? [{ op: 'eq' as const, field: 'ownerId', value: options.ownerId }] : []),
  ];
  const where = (...more: Filter[]): Filter => ({ op: 'and', filters: [...scope, ...more] });
  // One scan: per stage, entries and their exits by kind (conditional counts), eventual wins, time in stage.
  // In a view every visit field it uses must be readable (a visit's fields follow the deal's rules).
  const exit = (values: readonly (string | null)[]): Filter => ({ op: 'in', field: 'exitKind', values });
  const rows = await scopedAggregate(op, 'stageVisit', {
    filter: where(),
    groupBy: ['stageKey'],
    metrics: {
      entered: { fn: 'count' },
      advanced: { fn: 'count', where: exit([...ADVANCED]) },
      lost: { fn: 'count', where: exit(['lost']) },
      movedBack: { fn: 'count', where: exit(['movedBack']) },
      otherExits: { fn: 'count', where: exit([...OTHER]) },
      inStage: { fn: 'count', where: exit([null]) },
      won: { fn: 'count', where: { op: 'eq', field: 'closedAs', value: 'won' } },
      // Only exited visits have a duration: missing values are ignored.
      mean: { fn: 'avg', field: 'durationMs' },
      median: { fn: 'median', field: 'durationMs' },
    },
  }, 'reports.funnel');
  const stages = pipeline.stages.map((stage): FunnelStage => {
    const values = rows.find((r) => r.group.stageKey === stage.key)?.values ?? {};
    const count = (name: string) => (values[name] as number | undefined) ?? 0;
    const entered = count('entered');
    const advanced = count('advanced');
    const won = count('won');
    const inStage: Filter = { op: 'eq', field: 'stageKey', value: stage.key };
    return {
      stageKey: stage.key,
      name: stage.name,
      kind: stage.kind,
      entered,
      advanced,
      lost: count('lost'),
      movedBack: count('movedBack'),
      otherExits: count('otherExits'),
      inStage: count('inStage'),
      conversion: stage.kind === 'open' ? ratio(advanced, entered) : null,
      cumulativeWon: ratio(won, entered),
      meanTimeMs: (values.mean as number | null | undefined) ?? null,
      medianTimeMs: (values.median as number | null | undefined) ?? null,
      drill: {
        entered: { entity: 'stageVisit', where: where(inStage) },
        advanced: { entity: 'stageVisit', where: where(inStage, { op: 'in', field: 'exitKind', values: [...ADVANCED] }) },
        lost: { entity: 'stageVisit', where: where(inStage, { op: 'eq', field: 'exitKind', value: 'lost' }) },
        inStage: { entity: 'stageVisit', where: where(inStage, { op: 'eq', field: 'exitKind', value: null }) },
        won: { entity: 'stageVisit', where: where(inStage, { op: 'eq', field: 'closedAs', value: 'won' }) },
      },
    };
  });
  return {
    pipelineId: pipeline.id,
    from: options.from,
    to: options.to,
    stages,
    rows: stages.map(({ drill: _drill, ...row }) => row),
  };
}

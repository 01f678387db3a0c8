import type { Filter } from '../query/query-spec.js';
import type { Pipeline } from '../schema/pipeline.js';
import type { Operation } from '../crm/operation.js';
import { toTimestamp } from '../domain/clock.js';

const DAY = 86_400_000;

/**
 * A filter for deals rotting at the operation's time: for every stage with `rottenDays`, open deals
 * of that stage whose last activity is older than the threshold. Served by the board index.
 */
export async function rottingFilter(op: Operation): Promise<Filter> {
  const { rows: pipelines } = await op.query<Pipeline>('pipeline', {});
  const branches: Filter[] = [];
  for (const pipeline of pipelines) {
    for (const stage of pipeline.stages) {
      if (stage.kind !== 'open' || !stage.rottenDays) continue;
      branches.push({
        op: 'and',
        filters: [
          { op: 'eq', field: 'pipelineId', value: pipeline.id },
          { op: 'eq', field: 'stageKey', value: stage.key },
          { op: 'eq', field: 'status', value: 'open' },
          { op: 'lte', field: 'lastActivityAt', value: toTimestamp(op.nowMs - stage.rottenDays * DAY) },
        ],
      });
    }
  }
  return { op: 'or', filters: branches };
}

import type { Deal } from '../../schema/deal.js';
import type { Pipeline } from '../../schema/pipeline.js';

const DAY = 86_400_000;

/**
 * When an open deal starts rotting: `rottenDays` after its last activity, task completion or
 * update, for stages that set `rottenDays`. `undefined` when the deal cannot rot.
 */
export function rottingStartsAt(deal: Deal, pipeline: Pipeline): number | undefined {
  if (deal.status !== 'open') return undefined;
  const stage = pipeline.stages.find((s) => s.key === deal.stageKey);
  if (!stage?.rottenDays) return undefined;
  return Date.parse(deal.lastActivityAt) + stage.rottenDays * DAY;
}

/** True when the deal is rotting at `nowMs`. */
export function isRotting(deal: Deal, pipeline: Pipeline, nowMs: number): boolean {
  const start = rottingStartsAt(deal, pipeline);
  return start !== undefined && nowMs >= start;
}

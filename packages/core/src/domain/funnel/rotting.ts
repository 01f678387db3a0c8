import type { Deal } from '../../schema/deal.js';
import type { Pipeline } from '../../schema/pipeline.js';
import { LAST_INSTANT } from '../../schema/primitives.js';

const DAY = 86_400_000;

/**
 * When an open deal starts rotting, epoch ms: `rottenDays` after its last activity, task completion or
 * update, for stages that set `rottenDays`. `undefined` when the deal cannot rot — also when that time
 * falls after `LAST_INSTANT` (9999-12-31T23:59:59.999Z), which no timestamp reaches.
 */
export function rottingStartsAt(deal: Deal, pipeline: Pipeline): number | undefined {
  if (deal.status !== 'open') return undefined;
  const stage = pipeline.stages.find((s) => s.key === deal.stageKey);
  const at = stage?.rottenDays ? Date.parse(deal.lastActivityAt) + stage.rottenDays * DAY : undefined;
  return at !== undefined && at <= LAST_INSTANT ? at : undefined;
}

/** True when the deal is rotting at `nowMs`. */
export function isRotting(deal: Deal, pipeline: Pipeline, nowMs: number): boolean {
  const start = rottingStartsAt(deal, pipeline);
  return start !== undefined && nowMs >= start;
}

import type { AssignmentStrategy } from '../schema/assignment.js';
import type { Random } from './random.js';
import { testCondition } from './funnel/conditions.js';

/** The outcome of one strategy step. */
export type AssignmentChoice =
  | { readonly kind: 'owner'; readonly ownerId: string; readonly reason: string; readonly cursor?: number }
  | { readonly kind: 'delegate'; readonly strategyId: string; readonly reason: string }
  | { readonly kind: 'none'; readonly reason: string };

/**
 * Picks an owner for a record with one strategy. Pure and deterministic given `random`'s seed:
 * - round robin: the owner after `strategy.cursor`;
 * - load-balanced: the lowest `load / capacity` among owners below capacity, ties broken by `random`;
 * - rules: the first rule whose conditions all hold; otherwise the fallback.
 *
 * @param loads open items per owner (load-balanced only)
 */
export function chooseOwner(strategy: AssignmentStrategy, record: unknown, loads: ReadonlyMap<string, number>, random: Random): AssignmentChoice {
  const fallback = (why: string): AssignmentChoice => {
    if (!strategy.fallback) return { kind: 'none', reason: why };
    return 'userId' in strategy.fallback
      ? { kind: 'owner', ownerId: strategy.fallback.userId, reason: `${why}; fallback owner` }
      : { kind: 'delegate', strategyId: strategy.fallback.strategyId, reason: `${why}; fallback strategy` };
  };
  const owners = strategy.owners ?? [];
  switch (strategy.kind) {
    case 'roundRobin': {
      if (owners.length === 0) return fallback('no owners');
      const next = (strategy.cursor + 1) % owners.length;
      return { kind: 'owner', ownerId: owners[next]!.userId, reason: `round robin #${next + 1} of ${owners.length}`, cursor: next };
    }
    case 'loadBalanced': {
      let best: { userId: string; ratio: number }[] = [];
      for (const owner of owners) {
        const load = loads.get(owner.userId) ?? 0;
        const capacity = owner.capacity ?? Number.POSITIVE_INFINITY;
        if (load >= capacity) continue;
        const ratio = Number.isFinite(capacity) ? load / capacity : load;
        if (best.length === 0 || ratio < best[0]!.ratio) best = [{ userId: owner.userId, ratio }];
        else if (ratio === best[0]!.ratio) best.push({ userId: owner.userId, ratio });
      }
      if (best.length === 0) return fallback('every owner is at capacity');
      const pick = best[Math.floor(random.next() * best.length)]!;
      return { kind: 'owner', ownerId: pick.userId, reason: `least loaded (${(loads.get(pick.userId) ?? 0)} open)` };
    }
    case 'rules': {
      const rules = strategy.rules ?? [];
      const index = rules.findIndex((rule) => rule.when.every((c) => testCondition(record, c.field, c.op, c.value)));
      if (index === -1) return fallback('no rule matched');
      const target = rules[index]!.assignTo;
      return 'userId' in target
        ? { kind: 'owner', ownerId: target.userId, reason: `rule #${index + 1}` }
        : { kind: 'delegate', strategyId: target.strategyId, reason: `rule #${index + 1}` };
    }
  }
}

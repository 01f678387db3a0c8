import { newRecordBase } from '../domain/records.js';
import { parentAccessOf } from '../domain/parent-access.js';
import type { Deal } from '../schema/deal.js';
import type { StageVisit } from '../schema/stage-visit.js';
import type { Operation } from '../crm/operation.js';

/** Closes the open stage visit of a deal (used when it leaves its stage or is removed). */
export async function closeOpenVisit(op: Operation, deal: Deal, patch: Partial<StageVisit>): Promise<StageVisit | undefined> {
  const { rows } = await op.query<StageVisit>('stageVisit', {
    filter: { op: 'and', filters: [{ op: 'eq', field: 'dealId', value: deal.id }, { op: 'eq', field: 'exitedAt', value: null }] },
    sort: [{ field: 'enteredAt', direction: 'desc' }],
    limit: 1,
  });
  const visit = rows[0];
  if (!visit) return undefined;
  // Top-level fields only, and exitedAt always changes (the visit was open): a plain copy, not an immer
  // draft (issue 17). Object.assign onto a literal, not `{ ...visit, ...patch, exitedAt, … }` (same fields,
  // same order): V8 adds each new field to a spread copy by building a new hidden class, ~1 µs and 300
  // bytes a field per call. Stored rows hold no "__proto__" key (writes refuse it), which assign would set.
  const next = Object.assign({}, visit, patch) as StageVisit & { -readonly [K in keyof StageVisit]: StageVisit[K] };
  next.exitedAt = op.now;
  if (op.ctx.actor) next.exitedBy = op.ctx.actor.userId;
  next.durationMs = Math.max(0, Date.parse(op.now) - Date.parse(visit.enteredAt));
  next.version = visit.version + 1;
  next.updatedAt = op.now;
  return op.update('stageVisit', visit, next);
}

/** A new stage visit for a deal entering a stage. */
export function newStageVisit(op: Operation, deal: Deal, fromStageKey?: string): StageVisit {
  const visit = newRecordBase(op.newId('stageVisit'), op.tenantId, op.now) as StageVisit & Record<string, unknown>;
  visit.dealId = deal.id;
  visit.pipelineId = deal.pipelineId;
  visit.stageKey = deal.stageKey;
  visit.enteredAt = op.now;
  if (op.ctx.actor) visit.enteredBy = op.ctx.actor.userId;
  if (fromStageKey !== undefined) visit.fromStageKey = fromStageKey;
  if (deal.ownerId !== undefined) visit.ownerId = deal.ownerId;
  visit.postponeCount = 0;
  // Stage visits follow their deal: whoever may read the deal may read its history.
  return Object.assign(visit, parentAccessOf('deal', deal));
}

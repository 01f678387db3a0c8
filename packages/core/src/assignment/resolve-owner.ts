import { ruleViolation, validationError } from '../errors/crm-error.js';
import { chooseOwner } from '../domain/assignment.js';
import { compact, reviseRecord } from '../domain/records.js';
import type { AssignmentStrategy } from '../schema/assignment.js';
import type { Deal } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import type { Operation } from '../crm/operation.js';
import { dealRefs } from '../deals/deal-refs.js';

/** Who a strategy picked, and why. */
export interface AssignmentResult {
  readonly ownerId: string;
  readonly strategyId: string;
  readonly reason: string;
}

const MAX_DELEGATION = 5;

/** Open items per owner of the strategy's entity: new/qualified leads or open deals. */
async function loadsOf(op: Operation, strategy: AssignmentStrategy): Promise<Map<string, number>> {
  const owners = (strategy.owners ?? []).map((o) => o.userId);
  if (owners.length === 0) return new Map();
  const status = strategy.entity === 'lead' ? ['new', 'qualified'] : ['open'];
  const rows = await op.tx.aggregate(strategy.entity, op.tenantId, {
    filter: { op: 'and', filters: [{ op: 'in', field: 'ownerId', values: owners }, { op: 'in', field: 'status', values: status }] },
    groupBy: ['ownerId'],
    metrics: { open: { fn: 'count' } },
  });
  return new Map(rows.map((r) => [String(r.group.ownerId), r.values.open as number]));
}

/**
 * Runs a strategy (following delegations) for a record inside an operation. Persists the round-robin
 * cursor with a version check, so two concurrent assignments never pick the same turn.
 * Returns `undefined` when no owner can be chosen.
 */
export async function resolveOwner(op: Operation, strategyId: string, record: unknown): Promise<AssignmentResult | undefined> {
  let id = strategyId;
  const trail: string[] = [];
  for (let depth = 0; depth < MAX_DELEGATION; depth++) {
    const strategy = await op.get<AssignmentStrategy>('assignmentStrategy', id);
    if (!strategy) throw validationError('assignment', [{ path: ['strategyId'], code: 'not_found', message: `assignment strategy ${id} does not exist` }]);
    const choice = chooseOwner(strategy, record, strategy.kind === 'loadBalanced' ? await loadsOf(op, strategy) : new Map(), op.ctx.random);
    trail.push(`${strategy.name}: ${choice.reason}`);
    if (choice.kind === 'owner') {
      if (choice.cursor !== undefined) {
        await op.update('assignmentStrategy', strategy, reviseRecord(strategy, op.now, (d) => void (d.cursor = choice.cursor!)));
      }
      return { ownerId: choice.ownerId, strategyId: strategy.id, reason: trail.join(' → ') };
    }
    if (choice.kind === 'none') return undefined;
    id = choice.strategyId;
  }
  throw ruleViolation([{ rule: 'assignment.delegationLoop', message: `assignment strategies delegate more than ${MAX_DELEGATION} times`, data: { trail } }]);
}

/** Assigns a lead or deal with a strategy inside an operation; records `lead.assigned` / `deal.assigned`. */
export async function assignIn<T extends Lead | Deal>(op: Operation, entity: 'lead' | 'deal', record: T, strategyId: string): Promise<T> {
  const result = await resolveOwner(op, strategyId, record);
  if (!result) throw ruleViolation([{ rule: 'assignment.noOwner', message: 'the strategy found no owner (everyone at capacity and no fallback)', data: { strategyId } }]);
  const next = reviseRecord(record, op.now, (d) => void ((d as { ownerId?: string }).ownerId = result.ownerId));
  await op.update(entity, record, next);
  const data = compact({ ownerId: result.ownerId, previousOwnerId: record.ownerId, strategyId: result.strategyId, reason: result.reason });
  if (entity === 'deal') op.record('deal.assigned', { type: 'deal', id: record.id }, data, dealRefs(record as Deal));
  else op.record('lead.assigned', { type: 'lead', id: record.id }, data);
  return next;
}

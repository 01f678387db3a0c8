import * as z from 'zod/mini';
import { ruleViolation, validationError } from '../errors/crm-error.js';
import { chooseOwner } from '../domain/assignment.js';
import { compact, diffRecords, newRecordBase, reviseRecord } from '../domain/records.js';
import {
  assignmentStrategyInputSchema,
  assignmentStrategySchema,
  type AssignmentStrategy,
  type AssignmentStrategyInput,
} from '../schema/assignment.js';
import { idSchema } from '../schema/primitives.js';
import type { Deal } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import type { CrmContext } from './context.js';
import { type Operation, readRecord, runRead, runWrite } from './operation.js';
import { parseId, parseInput } from './parse-input.js';
import { assertExpectedVersion, versionOptionSchema } from './versioning.js';
import { dealRefs } from './deal-factory.js';

/** Who a strategy picked, and why. */
export interface AssignmentResult {
  readonly ownerId: string;
  readonly strategyId: string;
  readonly reason: string;
}

const MAX_DELEGATION = 5;

const updateSchema = z.strictObject({
  version: versionOptionSchema,
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  owners: z.optional(assignmentStrategySchema.shape.owners),
  rules: z.optional(assignmentStrategySchema.shape.rules),
  fallback: z.optional(z.nullable(assignmentStrategySchema.shape.fallback)),
});

const refSchema = z.strictObject({ type: z.enum(['lead', 'deal']), id: idSchema });

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

/**
 * Assignment strategies: round robin, load-balanced by capacity, and rules (by source, territory,
 * custom field…) with a fallback. Deterministic given the instance's random seed; every assignment
 * is recorded in the event log. `crm.assignment`.
 */
export class AssignmentService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Creates a strategy.
   *
   * @example
   * const web = await crm.assignment.createStrategy({ name: 'Web leads', entity: 'lead', kind: 'roundRobin',
   *   owners: [{ userId: 'anna' }, { userId: 'ben' }] });
   * await crm.leads.create({ name: 'Ada', source: 'web-form' }, { assignWith: web.id });
   */
  async createStrategy(input: AssignmentStrategyInput): Promise<AssignmentStrategy> {
    const parsed = parseInput(assignmentStrategyInputSchema, input, 'assignment.createStrategy');
    return runWrite(this.ctx, async (op) => {
      const { id, ...fields } = parsed;
      const strategy = compact({ ...newRecordBase(id ?? op.newId('assignmentRule'), op.tenantId, op.now), ...fields, cursor: -1 }) as AssignmentStrategy;
      await op.insert('assignmentStrategy', strategy);
      op.record('assignmentStrategy.created', { type: 'assignmentStrategy', id: strategy.id }, { strategy });
      return strategy;
    });
  }

  /** Changes a strategy's name, owners, rules or fallback (`null` removes the fallback). */
  async updateStrategy(id: string, patch: z.input<typeof updateSchema>): Promise<AssignmentStrategy> {
    const strategyId = parseId(id, 'assignment.updateStrategy');
    const parsed = parseInput(updateSchema, patch, 'assignment.updateStrategy');
    return runWrite(this.ctx, async (op) => {
      const current = await op.require<AssignmentStrategy>('assignmentStrategy', strategyId);
      assertExpectedVersion('assignmentStrategy', current, parsed.version);
      const next = reviseRecord(current, op.now, (d) => {
        if (parsed.name !== undefined) d.name = parsed.name;
        if (parsed.owners !== undefined) d.owners = parsed.owners;
        if (parsed.rules !== undefined) d.rules = parsed.rules;
        if (parsed.fallback === null) delete d.fallback;
        else if (parsed.fallback !== undefined) d.fallback = parsed.fallback;
        if ((d.owners?.length ?? 0) > 0) d.cursor = Math.min(d.cursor, d.owners!.length - 1);
      });
      const check = assignmentStrategyInputSchema.safeParse({ ...next, id: undefined, version: undefined, createdAt: undefined, updatedAt: undefined, tenantId: undefined, cursor: undefined });
      if (!check.success) throw validationError('assignment.updateStrategy', check.error.issues.map((i) => ({ path: i.path as (string | number)[], code: i.code, message: i.message })));
      if (next === current) return current;
      await op.update('assignmentStrategy', current, next);
      op.record('assignmentStrategy.updated', { type: 'assignmentStrategy', id: current.id }, { changes: diffRecords(current, next, ['cursor']) });
      return next;
    });
  }

  /** Reads a strategy. @throws CrmError `NOT_FOUND`. */
  async getStrategy(id: string): Promise<AssignmentStrategy> {
    const strategyId = parseId(id, 'assignment.getStrategy');
    return readRecord<AssignmentStrategy>(this.ctx, 'assignmentStrategy', strategyId);
  }

  /** Lists strategies, by entity and name. */
  async listStrategies(): Promise<AssignmentStrategy[]> {
    return runRead(this.ctx, async (op) => (await op.query<AssignmentStrategy>('assignmentStrategy', { sort: [{ field: 'entity' }, { field: 'name' }] })).rows);
  }

  /**
   * Gives a lead or deal an owner with a strategy.
   *
   * @throws CrmError `RULE_VIOLATION` when the strategy finds nobody (all at capacity, no fallback).
   */
  async assign(ref: { type: 'lead' | 'deal'; id: string }, strategyId: string): Promise<Lead | Deal> {
    const target = parseInput(refSchema, ref, 'assignment.assign');
    const sid = parseId(strategyId, 'assignment.assign', 'strategyId');
    return runWrite(this.ctx, async (op) => {
      const record = await op.require<Lead | Deal>(target.type, target.id);
      return assignIn(op, target.type, record, sid);
    });
  }
}

import * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
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
import type { CrmContext } from '../crm/context.js';
import { readRecord, runRead, runWrite } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { checkReferences, type ReferenceCheck } from '../crm/references.js';
import { assignIn } from './resolve-owner.js';

type StrategyLinks = Pick<AssignmentStrategyInput, 'rules' | 'fallback'>;

/** The strategies a strategy delegates to (rules' `assignTo`, `fallback`): each must exist when it is written. */
function delegations(strategy: { rules?: StrategyLinks['rules']; fallback?: StrategyLinks['fallback'] | null }): ReferenceCheck[] {
  const checks: ReferenceCheck[] = [];
  strategy.rules?.forEach((rule, i) => {
    if ('strategyId' in rule.assignTo) checks.push({ entity: 'assignmentStrategy', id: rule.assignTo.strategyId, path: ['rules', i, 'assignTo', 'strategyId'] });
  });
  if (strategy.fallback && 'strategyId' in strategy.fallback) checks.push({ entity: 'assignmentStrategy', id: strategy.fallback.strategyId, path: ['fallback', 'strategyId'] });
  return checks;
}

const updateSchema = z.strictObject({
  version: versionOptionSchema,
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  owners: z.optional(assignmentStrategySchema.shape.owners),
  rules: z.optional(assignmentStrategySchema.shape.rules),
  fallback: z.optional(z.nullable(assignmentStrategySchema.shape.fallback)),
});

const refSchema = z.strictObject({ type: z.enum(['lead', 'deal']), id: idSchema });

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
   * @throws CrmError `VALIDATION` for a bad input, or a rule or fallback delegating to a strategy that does
   *   not exist (code `not_found` at its path).
   */
  async createStrategy(input: AssignmentStrategyInput): Promise<AssignmentStrategy> {
    const parsed = parseInput(assignmentStrategyInputSchema, input, 'assignment.createStrategy');
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('setting', 'update');
      const { id, ...fields } = parsed;
      await checkReferences(op, 'assignment.createStrategy', delegations(parsed));
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
      op.guard?.require('setting', 'update');
      const current = await op.require<AssignmentStrategy>('assignmentStrategy', strategyId);
      assertExpectedVersion('assignmentStrategy', current, parsed.version);
      await checkReferences(op, 'assignment.updateStrategy', delegations(parsed));
      const next = reviseRecord(current, op.now, (d) => {
        if (parsed.name !== undefined) d.name = parsed.name;
        if (parsed.owners !== undefined) d.owners = parsed.owners;
        if (parsed.rules !== undefined) d.rules = parsed.rules;
        if (parsed.fallback === null) delete d.fallback;
        else if (parsed.fallback !== undefined) d.fallback = parsed.fallback;
        if ((d.owners?.length ?? 0) > 0) d.cursor = Math.min(d.cursor, d.owners!.length - 1);
      });
      // The edited strategy must still be a valid strategy input (the record's bookkeeping fields left out: the schema is strict).
      const { id: _id, tenantId: _tenant, version: _version, createdAt: _created, updatedAt: _updated, cursor: _cursor, ...input } = next;
      const check = assignmentStrategyInputSchema.safeParse(input);
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
    // A view reads in a transaction, where its guard is loaded: strategies are settings.
    if (this.ctx.principal) {
      return runRead(this.ctx, (op) => {
        op.guard?.require('setting', 'read');
        return op.require<AssignmentStrategy>('assignmentStrategy', strategyId);
      });
    }
    return readRecord<AssignmentStrategy>(this.ctx, 'assignmentStrategy', strategyId, 'assignment.getStrategy');
  }

  /** Lists strategies, by entity and name. */
  async listStrategies(): Promise<AssignmentStrategy[]> {
    return runRead(this.ctx, async (op) => {
      op.guard?.require('setting', 'read');
      return (await op.query<AssignmentStrategy>('assignmentStrategy', { sort: [{ field: 'entity' }, { field: 'name' }] })).rows;
    });
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
      const record = await op.requireFor<Lead | Deal>(target.type, target.id, 'assign');
      return assignIn(op, target.type, record, sid);
    });
  }
}

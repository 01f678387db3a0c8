import type { CrmFeature } from '../crm/feature.js';
import { AssignmentService } from './assignment-service.js';
import { assignIn, resolveOwner } from './resolve-owner.js';

/** The assignment feature: adds `crm.assignment`. */
export type AssignmentFeature = CrmFeature<'assignment', AssignmentService>;

/**
 * Assignment strategies as a crm feature: `crm.assignment` defines round-robin, load-balanced and
 * rule-based strategies; `crm.leads.create(input, { assignWith })` and stage task templates with a
 * `strategy` assignee use them. Without it, `assignWith` is refused with `VALIDATION`.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { assignment } from '@crmkit/core/assignment';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [assignment()] });
 * const web = await crm.assignment.createStrategy({ name: 'Web', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'anna' }, { userId: 'ben' }] });
 * await crm.leads.create({ name: 'Ada' }, { assignWith: web.id });
 */
export function assignment(): AssignmentFeature {
  return {
    key: 'assignment',
    setup: () => ({
      api: (ctx) => new AssignmentService(ctx),
      hooks: { assignment: { assign: (op, entity, record, strategyId) => assignIn(op, entity, record as never, strategyId) as never, resolveOwner } },
    }),
  };
}

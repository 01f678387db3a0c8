import type { CrmFeature } from '../crm/feature.js';
import type { AccessHooks } from '../crm/access-guard.js';
import { judgeEvents, readEventPage } from './visible-events.js';
import type { CrmEvent } from '../events/event-map.js';
import type { RecordBase } from '../schema/record.js';
import { AccessCache } from './access-cache.js';
import { AccessService } from './access-service.js';
import { wrapViewApi } from './view-projection.js';
import { concealConflict, revealConflict } from './conceal-conflict.js';

/** The access feature: adds `crm.access` and enforces the tenant's policy in every view. */
export type AccessFeature = CrmFeature<'access', AccessService>;

/**
 * Access control as a crm feature: `crm.access` (policy, directory, shares, reassigning a departed
 * user's records) and enforcement of the policy in every view made with `crm.as(principal)` — row
 * scopes pushed down to storage as filters, field rules, `NOT_FOUND` outside the read scope,
 * `FORBIDDEN` outside an action's. The crm itself stays trusted (it is the system: imports, the
 * scheduler, administration). See the access-control guide.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { access } from '@crmkit/core/access';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [access()] });
 * await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' } } } }, defaultRoles: ['rep'] });
 * const mine = await crm.as({ userId: 'anna' }).deals.list();
 */
export function access(): AccessFeature {
  return {
    key: 'access',
    setup(ctx) {
      const cache = new AccessCache(ctx.tenantId, ctx.revision, ctx.storage.capabilities.ownerKeys?.includes('deal'));
      const hooks: AccessHooks = {
        guard: (tx, principal) => cache.guard(tx, principal),
        visibleEvents: (storage, principal, events, rows) =>
          storage.transaction('r', async (tx) => {
            const guard = await cache.guard(tx, principal);
            if (!guard) return [...events];
            const judged = await judgeEvents(guard, events, (entity, ids) => tx.getMany(entity, ctx.tenantId, ids) as unknown as Promise<(RecordBase | undefined)[]>, rows);
            return judged.filter((e): e is CrmEvent => e !== undefined);
          }),
        readEvents: readEventPage,
        judgeEvents: (guard, events, load) => judgeEvents(guard, events, load),
        concealConflict,
        revealConflict,
        wrap: wrapViewApi,
      };
      return { api: (viewCtx) => new AccessService(viewCtx, cache), hooks: { access: hooks } };
    },
  };
}

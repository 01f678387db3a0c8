import type { Crm } from '../crm/crm.js';
import type { CrmFeature } from '../crm/feature.js';
import { readTimelineWithKeys } from '../timeline/timeline-service.js';
import { createObserveApi, type ObserveApi } from './observe-api.js';
import { tenantChanges } from './observer.js';

/** The observers feature: adds `crm.observe`. */
export type ObserversFeature = CrmFeature<'observe', ObserveApi>;

/** A crm with observers, as `@crmkit/react-hooks` needs it. */
export type ObservedCrm = Crm & { readonly observe: ObserveApi };

/**
 * Subscribable observers (records, lists, boards with optimistic moves, agendas, timelines) as a crm
 * feature: adds `crm.observe`. `@crmkit/react-hooks` needs a crm with this feature.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { observers } from '@crmkit/core/observe';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [observers()] });
 * const off = crm.observe.deal(dealId).subscribe(() => render());
 */
export function observers(): ObserversFeature {
  return {
    key: 'observe',
    setup: () => ({ api: (ctx, crm) => createObserveApi(crm, tenantChanges(ctx.storage, ctx.tenantId), (ref, o) => readTimelineWithKeys(ctx, ref, o), ctx.clock) }),
  };
}

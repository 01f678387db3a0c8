import type { CrmFeature } from '../crm/feature.js';
import { createEventsApi, type ConsumerRegistry, type EventsApi } from './events-api.js';

/** The change-feed feature: adds `crm.events`. */
export type EventsFeature = CrmFeature<'events', EventsApi>;

/**
 * The change feed and durable consumers as a crm feature: adds `crm.events` (`read`, `consume`,
 * `status`, `parked`, `replay`, `prune`, …). Every crm records feed positions whether or not it has
 * this feature; the feature reads them. `crm.close()` stops the consumers it started.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { events } from '@crmkit/core/feed';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [events()] });
 * await crm.events.consume('search-index', async (event) => index(event), { types: ['deal.created', 'deal.updated'] });
 */
export function events(): EventsFeature {
  return {
    key: 'events',
    setup() {
      const registry: ConsumerRegistry = new Set();
      return {
        api: (ctx) => createEventsApi(ctx, registry),
        async close() {
          for (const runner of [...registry]) await runner.stop();
          registry.clear();
        },
      };
    },
  };
}

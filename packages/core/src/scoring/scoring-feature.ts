import type { CrmFeature } from '../crm/feature.js';
import { ScoringService } from './scoring-service.js';

/** The scoring feature: adds `crm.scoring`. */
export type ScoringFeature = CrmFeature<'scoring', ScoringService>;

/**
 * Lead and deal scoring as a crm feature: `crm.scoring.model()`, `.score(ref)`, `.apply()`.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { scoring } from '@crmkit/core/scoring';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [scoring()] });
 * const { probability } = await crm.scoring.score({ type: 'lead', id: lead.id });
 */
export function scoring(): ScoringFeature {
  return { key: 'scoring', setup: () => ({ api: (ctx) => new ScoringService(ctx) }) };
}

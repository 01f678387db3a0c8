import type { CrmFeature } from '../crm/feature.js';
import { ImportService } from './import-service.js';

/** The imports feature: adds `crm.imports`. */
export type ImportsFeature = CrmFeature<'imports', ImportService>;

/**
 * Bulk import as a crm feature: `crm.imports.deals(rows)` creates many deals in one all-or-nothing
 * transaction, validating every row first.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { imports } from '@crmkit/core/imports';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [imports()] });
 * await crm.imports.deals([{ title: 'Chairs', value: { amount: 129_00, currency: 'EUR' } }]);
 */
export function imports(): ImportsFeature {
  return { key: 'imports', setup: () => ({ api: (ctx) => new ImportService(ctx) }) };
}

import type { CrmFeature } from '../crm/feature.js';
import { ReportService } from './report-service.js';

/** The reports feature: adds `crm.reports`. */
export type ReportsFeature = CrmFeature<'reports', ReportService>;

/**
 * Analytics as a crm feature: `crm.reports.funnel`, `velocity`, `forecast`, `performance`,
 * `customers` and `drill`, computed in storage.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { reports } from '@crmkit/core/reports';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [reports()] });
 * const { stages } = await crm.reports.funnel({ pipelineId, from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' });
 */
export function reports(): ReportsFeature {
  return { key: 'reports', setup: () => ({ api: (ctx) => new ReportService(ctx) }) };
}

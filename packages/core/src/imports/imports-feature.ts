import type { CrmFeature } from '../crm/feature.js';
import { ExportApi, ImportApi, ImportService } from './import-service.js';

/** The imports feature: adds `crm.import`, `crm.export` and the create-many calls `crm.imports`. */
export type ImportsFeature = CrmFeature<'imports', ImportService, { import: ImportApi; export: ExportApi }>;

/**
 * Imports and exports as a crm feature: `crm.import.run(…)` takes rows, row streams or CSV files
 * (with `csvSource` from `@crmkit/core/csv`) into leads, contacts, companies, deals and activities
 * with a column mapping and a per-row report, in resumable chunks; `crm.export.run(…)` streams any
 * list filter as CSV or JSON; `crm.imports.deals/contacts/companies/leads(rows)` create many records
 * in one all-or-nothing transaction.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { imports } from '@crmkit/core/imports';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [imports()] });
 * const report = await crm.import.run({ entity: 'contact', rows: [{ Name: 'Ada', Mail: 'ada@example.com' }], mapping: { name: 'Name', email: 'Mail' } });
 */
export function imports(): ImportsFeature {
  return {
    key: 'imports',
    setup: () => ({
      api: (ctx) => new ImportService(ctx),
      also: { import: (ctx, crm) => new ImportApi(ctx, crm), export: (ctx, crm) => new ExportApi(crm, ctx) },
    }),
  };
}

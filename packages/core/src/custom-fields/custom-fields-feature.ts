import type { CrmFeature } from '../crm/feature.js';
import { applyCustomValues, customFieldQueryType } from '../domain/custom-values.js';
import { CustomFieldService, ensureCustomFieldIndexes } from './custom-field-service.js';
import { CustomFieldCache } from './definition-cache.js';
import { resyncs } from '../storage/storage-adapter.js';

/** The custom-fields feature: adds `crm.customFields`. */
export type CustomFieldsFeature = CrmFeature<'customFields', CustomFieldService>;

/**
 * Custom fields as a crm feature: `crm.customFields` defines typed fields (text, number, boolean,
 * date, select, multiselect, money) on leads, contacts, companies and deals; their values are checked
 * on every write and are filterable and sortable as `custom.<key>`. Without it, a `custom` value in
 * an input is refused (`unknown_field`) and `custom.*` paths are not queryable.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { customFields } from '@crmkit/core/custom-fields';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [customFields()] });
 * await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'money' });
 */
export function customFields(): CustomFieldsFeature {
  return {
    key: 'customFields',
    setup(ctx) {
      const cache = new CustomFieldCache(ctx.tenantId, ctx.revision);
      // Other processes and tabs change definitions too: drop the cache on any such change.
      const stop = ctx.storage.onChange((batch) => (resyncs(batch, ctx.tenantId) || batch.changes.some((c) => c.entity === 'customField')) && cache.invalidate());
      return {
        api: (view) => new CustomFieldService(view, cache),
        hooks: {
          customFields: {
            async check(op, entity) {
              const definitions = await cache.load(op.tx, entity);
              return (input, existing) => applyCustomValues(definitions, input, existing);
            },
            async queryType(op, entity) {
              const definitions = await cache.load(op.tx, entity);
              return (path) => customFieldQueryType(definitions, path);
            },
            cachedQueryType(entity) {
              const definitions = cache.peek(entity);
              return definitions && ((path) => customFieldQueryType(definitions, path));
            },
            definitions: (op, entity) => cache.load(op.tx, entity),
          },
        },
        // Indexes of indexed custom fields, in case one is missing (made by another process, or a crash after the definition).
        start: () => ensureCustomFieldIndexes(ctx),
        close: async () => stop(),
      };
    },
  };
}

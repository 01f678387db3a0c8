// Entry point of @crmkit/core/custom-fields: typed custom fields on leads, contacts, companies and deals as an opt-in crm feature.
export { customFields, type CustomFieldsFeature } from './custom-fields-feature.js';
export type { CustomFieldService } from './custom-field-service.js';

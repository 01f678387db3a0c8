import { CUSTOM_PATH_PATTERN } from '../query/field-type.js';
import { dealFields } from '../storage/crm-schema.js';

/** Fields a stage's field rule may test: the deal's queryable fields and its custom fields. */
export function isDealField(field: string): boolean {
  return Object.prototype.hasOwnProperty.call(dealFields, field) || CUSTOM_PATH_PATTERN.test(field);
}

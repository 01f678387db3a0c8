import type { CustomValuesCheck } from './feature-hooks.js';
import type { Operation } from './operation.js';

/**
 * The checker of an entity's `custom` values: the custom-fields feature's, or — without it — one
 * that knows no field, so any custom value is refused and stored values are kept as they are.
 */
export async function customValuesCheck(op: Operation, entity: string): Promise<CustomValuesCheck> {
  const hook = op.ctx.hooks.customFields;
  if (hook) return hook.check(op, entity);
  return (input, existing) => ({
    values: { ...existing },
    issues: Object.keys(input ?? {}).map((key) => ({
      path: ['custom', key],
      code: 'unknown_field',
      message: `"${key.slice(0, 100)}" is not a custom field of this entity (custom fields need the customFields() feature)`,
    })),
  });
}

import * as z from 'zod/mini';

/**
 * A union of object shapes told apart by a tag (`{ type: 'field', … }`): the tag picks the schema
 * that checks the object, so problems are reported against that shape. zod's `discriminatedUnion`
 * does the same; this keeps its weight (and that of `union` and `literal`) out of the core bundle.
 * The value is passed through as given: the shapes must not transform.
 *
 * @param key The tag property.
 * @param shapes The schema of each tag value.
 */
export function tagged<T>(key: string, shapes: Readonly<Record<string, z.ZodMiniType>>) {
  return z.custom<T>().check(
    z.superRefine((value, ctx) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        ctx.issues.push({ code: 'invalid_type', expected: 'object', input: value, message: 'must be an object' });
        return;
      }
      const tag = (value as Record<string, unknown>)[key];
      const schema = typeof tag === 'string' && Object.hasOwn(shapes, tag) ? shapes[tag] : undefined;
      if (!schema) {
        ctx.issues.push({ code: 'invalid_value', values: Object.keys(shapes), path: [key], input: tag, message: `must be one of ${Object.keys(shapes).join(', ')}` });
        return;
      }
      const result = schema.safeParse(value);
      if (!result.success) ctx.issues.push(...(result.error.issues as never[]));
    }),
  );
}

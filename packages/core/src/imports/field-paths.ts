import type * as z from 'zod/mini';

/** A zod object's fields, or none for any other schema (optional, nullable and default wrappers looked through). */
function shapeOf(schema: unknown): Readonly<Record<string, unknown>> | undefined {
  let node = schema as { shape?: Record<string, unknown>; _zod?: { def?: { innerType?: unknown } } } | undefined;
  while (node && !node.shape && node._zod?.def?.innerType) node = node._zod.def.innerType as typeof node;
  return node?.shape;
}

/** The merged fields of the given input schemas (create and update), by name. */
export function inputShape(...schemas: z.ZodMiniType[]): Readonly<Record<string, unknown>> {
  return Object.assign({}, ...schemas.map((s) => shapeOf(s) ?? {})) as Record<string, unknown>;
}

/**
 * Whether a dotted mapping path names a field of an input shape or a real path inside one (`value`,
 * `value.amount`), not a path under a scalar (`name.first`, `value.amount.x`), which no record holds.
 * `custom.<key>`, `externalRefs.<system>` and `lineItems.<field>` are named by their first segment: their keys are checked apart.
 */
export function isFieldPath(shape: Readonly<Record<string, unknown>>, path: string): boolean {
  const [head, ...rest] = path.split('.');
  if (!Object.hasOwn(shape, head!)) return false;
  if (head === 'custom' || head === 'lineItems') return true;
  if (head === 'externalRefs') return rest.length <= 1;
  let node: Readonly<Record<string, unknown>> | undefined = shape;
  for (const key of path.split('.')) {
    if (!node || !Object.hasOwn(node, key)) return false;
    node = shapeOf(node[key]);
  }
  return true;
}

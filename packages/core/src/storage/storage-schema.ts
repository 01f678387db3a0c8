import type { FieldType } from '../query/field-type.js';

export { CUSTOM_PATH_PATTERN, type FieldType } from '../query/field-type.js';

/**
 * An index over `tenantId` followed by `fields`. Adapters must create it (or an equivalent) so that
 * queries whose filter fixes a prefix of `fields` by equality and sorts by the rest are answered
 * without scanning the entity.
 */
export interface IndexSpec {
  readonly name: string;
  readonly fields: readonly string[];
}

/**
 * One entity (table / object store). Rows are JSON documents; `fields` lists the dotted paths that
 * queries may filter, sort and group on without naming a custom field. Any `custom.<key>` path is
 * queryable too; its type comes from the custom-field definition.
 */
export interface EntitySchema {
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldType>>;
  readonly indexes: readonly IndexSpec[];
}

/** Everything an adapter must create on `open`. `version` increases whenever entities, fields or indexes change. */
export interface StorageSchema {
  readonly version: number;
  readonly entities: readonly EntitySchema[];
}

/** Finds an entity's schema or throws a programming error. */
export function entitySchemaOf(schema: StorageSchema, entity: string): EntitySchema {
  const found = schema.entities.find((e) => e.name === entity);
  if (!found) throw new Error(`Unknown entity "${entity}"`);
  return found;
}

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
  /**
   * Fields of the index that are only ever looked up with a value (a link such as `contactId`, found by
   * equality; `closedAt`, read by ranges): an adapter may leave rows without a value (missing or `null`)
   * at one of them out of the index, and must then answer a query from it only when the filter rules
   * such rows out (`eq`/`in` without `null`, or a range, on each of them). Saves index upkeep on every
   * write of a row without the value. Changing it is an index change (adapters rebuild the index).
   */
  readonly sparse?: readonly string[];
}

/**
 * A materialized aggregate: per tenant and group, the count of rows and the sums of number fields,
 * kept up to date by the writes themselves so that `aggregate` can answer from a few group rows
 * instead of scanning the entity (the pipeline board's per-stage totals).
 *
 * It answers every `AggregateSpec` whose filter is a conjunction of `eq`/`in` conditions on `groupBy`
 * fields, whose `groupBy` is a subset of the view's, and whose metrics are `count` or `sum` of one of
 * `sums`, without a metric `where` (see `planViewRead`). Adapters that maintain it must follow the
 * rules of `StorageAdapter` ("Materialized aggregates"); others simply compute such aggregates.
 */
export interface AggregateViewSpec {
  /** Identifier, unique within the entity. */
  readonly name: string;
  /** Scalar fields whose values form a group, after the tenant. */
  readonly groupBy: readonly string[];
  /** Number fields summed per group (money amounts: integers in minor units). */
  readonly sums: readonly string[];
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
  /** Materialized aggregates adapters may maintain (see `AggregateViewSpec`). */
  readonly aggregates?: readonly AggregateViewSpec[];
  /**
   * `string[]` fields whose values are unique keys: no two rows of one tenant may hold the same value
   * (a row may hold many). Each must also be indexed alone (an index whose only field it is), so the
   * holder of a value is found without a scan. Adapters must enforce it (see `StorageTx.write`).
   */
  readonly unique?: readonly string[];
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

import type { FieldType } from './field-type.js';

/** A value a filter compares against. */
export type Scalar = string | number | boolean;

/** Every filter operator. `and`/`or` combine; the rest test one field. */
export type FilterOp = 'eq' | 'in' | 'lt' | 'lte' | 'gt' | 'gte' | 'prefix' | 'containsAny' | 'and' | 'or';

/**
 * A filter tree over record fields (dotted paths such as `value.amount` or `custom.budget`).
 *
 * Meaning (see `match.ts`, the reference every adapter must agree with):
 * - `eq` with `null` matches a missing or null field; with a value, strict equality.
 * - `in` matches when the field equals one of `values` (`null` in `values` matches missing).
 * - `lt`/`lte`/`gt`/`gte` compare numbers numerically and strings by Unicode code point;
 *   a missing field never matches.
 * - `prefix` matches strings starting with `value` (case-sensitive).
 * - `containsAny` matches a list field (`tags`, multiselect) holding at least one of `values`.
 * - `and` of nothing matches everything; `or` of nothing matches nothing.
 */
export type Filter<F extends string = string> =
  | { readonly op: 'eq'; readonly field: F; readonly value: Scalar | null }
  | { readonly op: 'in'; readonly field: F; readonly values: readonly (Scalar | null)[] }
  | { readonly op: 'lt' | 'lte' | 'gt' | 'gte'; readonly field: F; readonly value: string | number }
  | { readonly op: 'prefix'; readonly field: F; readonly value: string }
  | { readonly op: 'containsAny'; readonly field: F; readonly values: readonly string[] }
  | { readonly op: 'and' | 'or'; readonly filters: readonly Filter<F>[] };

/**
 * "Holds the same identity as": an e-mail (same mailbox: case, IDNA domain, provider aliases),
 * a phone number (same E.164 number, read with `region` or the tenant's default region) or a web
 * domain (same canonical host). For leads, contacts and companies. Core resolves it, before the query
 * reaches storage, into `containsAny` over the records' indexed normalised keys (`searchKeys`), so
 * every adapter answers it in its index, with one meaning computed once in JavaScript.
 */
export interface SameFilter {
  readonly op: 'same';
  readonly field: 'email' | 'phone' | 'domain';
  readonly value: string;
  /** ISO 3166 alpha-2 region for a phone number written without a country code (this call only). */
  readonly region?: string;
}

/** A filter of the public list methods: `Filter` plus `same`, at any depth. */
export type ListFilter<F extends string = string> =
  | Exclude<Filter<F>, { readonly op: 'and' | 'or' }>
  | SameFilter
  | { readonly op: 'and' | 'or'; readonly filters: readonly ListFilter<F>[] };

export type SortDirection = 'asc' | 'desc';

/** One sort key. Missing values sort first ascending (last descending); ties always break by `id` ascending. */
export interface SortSpec<F extends string = string> {
  readonly field: F;
  readonly direction?: SortDirection;
}

/** What a storage `query` call receives. */
export interface QuerySpec<F extends string = string> {
  readonly filter?: Filter<F>;
  readonly sort?: readonly SortSpec<F>[];
  /** Page size; absent means every matching row (services always set one). */
  readonly limit?: number;
  /** Opaque keyset cursor from a previous page's `nextCursor`. */
  readonly after?: string;
  /**
   * Types of the `custom.*` paths the query uses. Core always fills it; engines that store custom
   * fields as JSON use it to compare and sort them with the right type (PostgreSQL casts).
   */
  readonly customTypes?: Readonly<Record<string, FieldType>>;
}

export type AggregateMetric<F extends string = string> =
  | { readonly fn: 'count'; readonly where?: Filter<F> }
  | { readonly fn: 'sum' | 'avg' | 'min' | 'max' | 'median'; readonly field: F; readonly where?: Filter<F> };

/**
 * Group rows by fields and compute metrics per group.
 * `sum` of no values is 0; `avg`/`min`/`max`/`median` of no values are `null`; nulls are ignored by every metric
 * but `count`. `median` of an even count is the mean of the two middle values. A metric's own `where`
 * restricts the rows it looks at within each group (SQL's `FILTER (WHERE …)`): one scan answers
 * "entered, advanced and lost per stage".
 * Groups come ordered by their key values ascending (the `compare` order).
 */
export interface AggregateSpec<F extends string = string> {
  readonly filter?: Filter<F>;
  readonly groupBy?: readonly F[];
  readonly metrics: Readonly<Record<string, AggregateMetric<F>>>;
  /** Types of the `custom.*` paths used, as in `QuerySpec`. */
  readonly customTypes?: Readonly<Record<string, FieldType>>;
}

export interface AggregateRow {
  /** The group's key values, by field. Empty when `groupBy` is empty. */
  readonly group: Readonly<Record<string, Scalar | null>>;
  readonly values: Readonly<Record<string, number | string | null>>;
}

function and<F extends string>(...filters: Filter<F>[]): Filter<F>;
function and<F extends string>(...filters: ListFilter<F>[]): ListFilter<F>;
function and<F extends string>(...filters: ListFilter<F>[]): ListFilter<F> {
  return { op: 'and', filters };
}
function or<F extends string>(...filters: Filter<F>[]): Filter<F>;
function or<F extends string>(...filters: ListFilter<F>[]): ListFilter<F>;
function or<F extends string>(...filters: ListFilter<F>[]): ListFilter<F> {
  return { op: 'or', filters };
}

/** Builders for filter trees, so call sites read like sentences. */
export const where = {
  eq: <F extends string>(field: F, value: Scalar | null): Filter<F> => ({ op: 'eq', field, value }),
  in: <F extends string>(field: F, values: readonly (Scalar | null)[]): Filter<F> => ({ op: 'in', field, values }),
  lt: <F extends string>(field: F, value: string | number): Filter<F> => ({ op: 'lt', field, value }),
  lte: <F extends string>(field: F, value: string | number): Filter<F> => ({ op: 'lte', field, value }),
  gt: <F extends string>(field: F, value: string | number): Filter<F> => ({ op: 'gt', field, value }),
  gte: <F extends string>(field: F, value: string | number): Filter<F> => ({ op: 'gte', field, value }),
  prefix: <F extends string>(field: F, value: string): Filter<F> => ({ op: 'prefix', field, value }),
  containsAny: <F extends string>(field: F, values: readonly string[]): Filter<F> => ({ op: 'containsAny', field, values }),
  and,
  or,
  /**
   * Same identity as `value` (see `SameFilter`): `where.same('email', 'Ada@Example.com')` finds `ada@example.com`.
   *
   * @example
   * await crm.contacts.list({ where: where.same('phone', '06 12 34 56 78', 'FR') });
   */
  same: (field: SameFilter['field'], value: string, region?: string): ListFilter<never> => (region === undefined ? { op: 'same', field, value } : { op: 'same', field, value, region }),
};

/** Every field path a filter mentions. */
export function filterFields(filter: Filter | ListFilter | undefined, into: Set<string> = new Set()): Set<string> {
  if (!filter) return into;
  if ('filters' in filter) filter.filters.forEach((f) => filterFields(f, into));
  else into.add(filter.field);
  return into;
}

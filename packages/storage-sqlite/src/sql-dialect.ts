import type { Scalar } from '@crmkit/core';
import type { Row } from '@crmkit/core/storage';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ScalarType, TableName } from './table-layout.js';

/** A piece of SQL with its bound parameters, composed with Kysely's `sql` tag. */
export type SqlFragment = RawBuilder<unknown>;

/** The compile-only Kysely database type: we never use Kysely's typed table API. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type CompileOnlyDatabase = {};

/**
 * What differs between SQLite and PostgreSQL. Everything else (filters, sorts, keyset pagination,
 * aggregates, migrations) is written once against this interface and compiled by Kysely.
 *
 * Every method must bind user values as parameters: only names from the layout (schema-derived,
 * validated identifiers) and fixed keywords may appear in the SQL text.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  /** A Kysely instance over a dummy driver, used only to compile `sql` fragments for this dialect. */
  readonly kysely: Kysely<CompileOnlyDatabase>;
  /** The (optionally schema-qualified) table reference. */
  table(table: TableName): SqlFragment;
  /** The bound value of a scalar compared with a column or custom expression (SQLite: booleans as 0/1). */
  param(value: Scalar): unknown;
  /** A column value as stored (SQLite: booleans as 0/1); `null` for values whose JSON type is not `type`. */
  columnValue(value: unknown, type: ScalarType): string | number | boolean | null;
  /**
   * The value of a custom field `custom.<key>[.amount|.currency]` of the document `doc` (default: row
   * alias `t`), typed: values of another JSON type read as NULL, so they never match and sort with the
   * missing ones. The JSON path is written into the SQL as a literal (`jsonPathLiteral` checks it), so
   * that the expression is exactly the one of a runtime index (`ensureIndexes`): planners match index
   * expressions by their text or tree, and a bound parameter never matches.
   */
  customValue(segments: readonly string[], type: ScalarType, doc?: SqlFragment): SqlFragment;
  /** True when the custom list field (a JSON array) of row `t` holds one of `values` as a string element. */
  customContainsAny(segments: readonly string[], values: readonly string[]): SqlFragment;
  /** `expr IN (values)` for non-empty `values` of one type. */
  inList(expr: SqlFragment, values: readonly Scalar[], type: ScalarType): SqlFragment;
  /** One ORDER BY term with crmkit's null placement: first ascending, last descending. */
  orderTerm(expr: SqlFragment, direction: 'asc' | 'desc'): SqlFragment;
  /**
   * The same value, but not usable to satisfy ORDER BY from an index. SQLite (without statistics)
   * prefers walking a sort index and probing a selective `id IN (side table)` filter, which scans the
   * whole table when few rows match; hiding the sort column makes it start from the side table.
   */
  unindexed(expr: SqlFragment): SqlFragment;
  /** Sum that is 0 (not NULL) over no values. */
  sum(expr: SqlFragment): SqlFragment;
  /** A column or expression value read back as the field's JS type. */
  readScalar(value: unknown, type: ScalarType): Scalar | null;
  /** A count, sum or average read back as a number. */
  readNumber(value: unknown): number | null;
  /** The stored document read back as a row. */
  readDoc(value: unknown): Row;
  /** Column type for a declared field in DDL (empty for SQLite: no affinity, values keep their type). */
  columnType(type: ScalarType | 'id' | 'version' | 'doc'): SqlFragment;
  /** One column of an index, ordered so that forward and backward scans give crmkit's null placement. */
  indexColumn(column: string): SqlFragment;
  /**
   * Appended to a claim's SELECT: locks the rows read for the transaction and skips rows other
   * transactions hold (PostgreSQL ` FOR UPDATE OF "t" SKIP LOCKED`); empty where write transactions
   * never overlap (SQLite).
   */
  readonly lockRows: SqlFragment;
  /** One expression of an index (a custom field's `customValue` over the bare `doc` column), ordered likewise. */
  indexExpression(expr: SqlFragment): SqlFragment;
  /** Table options of a side table (SQLite: `WITHOUT ROWID`, it is all primary key). */
  readonly sideTableOptions: SqlFragment;
  /** A query returning the column names of `table` (no rows when it does not exist). */
  columnsQuery(table: TableName): SqlFragment;
  /** A query returning the names of the indexes on `table`. */
  indexesQuery(table: TableName): SqlFragment;
  /**
   * True when a runtime index over a custom field is a plain index on a stored generated column
   * (PostgreSQL: it never answers from an expression index alone, so a grouped count scanned the
   * table); false for an expression index (SQLite reads the indexed expression from the index).
   */
  readonly storedRuntimeColumns: boolean;
  /** Fills a side table from the documents of its entity table (for lists added by a migration). */
  backfillList(side: TableName, main: TableName, segments: readonly string[]): SqlFragment;
  /**
   * Planner statistics of indexes: a query returning a row when the database keeps statistics, one
   * returning the names of `table`'s indexes that have them, and the statement gathering one index's.
   * SQLite only: once a table has statistics, its planner rates an index without them as very
   * selective and may sort the whole table through it; PostgreSQL keeps column statistics itself.
   */
  readonly indexStatistics?: { readonly kept: SqlFragment; analyzed(table: TableName): SqlFragment; gather(index: string): SqlFragment };
}

/** Reads a JSON document stored as text, or passes through one the driver already parsed. */
export function parseDoc(value: unknown): Row {
  return (typeof value === 'string' ? JSON.parse(value) : value) as Row;
}

/** Column reference `"t"."column"` of the queried row. */
export function col(column: string): SqlFragment {
  return sql.ref(`t.${column}`);
}

/** `true`/`false` as SQL conditions, portable across both dialects. */
export const TRUE: SqlFragment = sql`1 = 1`;
export const FALSE: SqlFragment = sql`1 = 0`;

const PATH_SEGMENT = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/**
 * Checks the segments of a JSON path that goes into the SQL text as a literal: identifiers only (what
 * `CUSTOM_PATH_PATTERN` and the schema allow), so no quote, dot or bracket can reach the statement.
 *
 * @throws Error for anything else (a programming error: callers validate field names first).
 */
export function checkPathSegments(segments: readonly string[]): readonly string[] {
  if (!segments.length || !segments.every((s) => PATH_SEGMENT.test(s))) throw new Error(`Invalid JSON path ${JSON.stringify(segments).slice(0, 100)}`);
  return segments;
}

/** The row alias `t`'s document column. */
export const DOC: SqlFragment = sql.ref('t.doc');

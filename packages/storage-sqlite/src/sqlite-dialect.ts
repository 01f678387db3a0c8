import type { Scalar } from '@crmkit/core';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import { checkPathSegments, DOC, parseDoc, type CompileOnlyDatabase, type SqlDialect, type SqlFragment } from './sql-dialect.js';
import type { TableName } from './table-layout.js';

/** `'$.custom.budget.amount'` as an SQL literal, from checked identifier segments. */
function jsonPath(segments: readonly string[]): SqlFragment {
  return sql.lit(`$.${checkPathSegments(segments).join('.')}`);
}

/**
 * Lists longer than this are bound as one JSON array parameter (`json_each`) instead of one parameter
 * per value: SQLite refuses statements with more than 32 766 bound parameters, and an `in` list or a
 * timeline's record keys can be longer. Short lists keep `IN (?, …)`, which the planner knows best.
 */
const INLINE_LIST_MAX = 500;

/** `IN (…)` over `values`: one parameter each, or one JSON array for long lists. */
function inValues(values: readonly (string | number)[]) {
  if (values.length > INLINE_LIST_MAX) return sql`(SELECT "value" FROM json_each(${JSON.stringify(values)}))`;
  return sql`(${sql.join(values.map((v) => sql`${v}`))})`;
}

/**
 * The SQLite dialect. Field columns have no declared type (no affinity), so values keep their storage
 * class; booleans are stored as 0/1; text compares with BINARY, which is code-point order for UTF-8.
 * Custom fields are read with `json_extract(doc, '$.custom.key')`, the path a checked literal, so an
 * expression index over the same expression serves them.
 */
export function createSqliteDialect(): SqlDialect {
  const kysely = new Kysely<CompileOnlyDatabase>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
  return {
    name: 'sqlite',
    kysely,
    table: (table: TableName) => sql.table(table.name),
    param: (value: Scalar) => (typeof value === 'boolean' ? (value ? 1 : 0) : value),
    columnValue(value, type) {
      switch (type) {
        case 'string':
          return typeof value === 'string' ? value : null;
        case 'number':
          return typeof value === 'number' && Number.isFinite(value) ? value : null;
        case 'boolean':
          return typeof value === 'boolean' ? (value ? 1 : 0) : null;
      }
    },
    customValue(segments, type, doc = DOC) {
      const path = jsonPath(segments);
      switch (type) {
        case 'string':
          return sql`(CASE WHEN json_type(${doc}, ${path}) = 'text' THEN json_extract(${doc}, ${path}) END)`;
        case 'number':
          return sql`(CASE WHEN json_type(${doc}, ${path}) IN ('integer', 'real') THEN json_extract(${doc}, ${path}) END)`;
        case 'boolean':
          return sql`(CASE json_type(${doc}, ${path}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`;
      }
    },
    customContainsAny(segments, values) {
      const path = jsonPath(segments);
      return sql`(json_type(${DOC}, ${path}) = 'array' AND EXISTS (SELECT 1 FROM json_each(${DOC}, ${path}) AS "j" WHERE "j"."type" = 'text' AND "j"."value" IN ${inValues(values)}))`;
    },
    inList(expr, values) {
      return sql`${expr} IN ${inValues(values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)))}`;
    },
    orderTerm: (expr: SqlFragment, direction) => (direction === 'desc' ? sql`${expr} DESC` : sql`${expr} ASC`),
    sum: (expr) => sql`TOTAL(${expr})`,
    // Unary plus is a no-op on every value in SQLite, but an expression, so no index provides its order.
    unindexed: (expr) => sql`+${expr}`,
    readScalar(value, type) {
      if (value === null || value === undefined) return null;
      if (type === 'boolean') return value === 1 || value === true;
      return value as Scalar;
    },
    readNumber: (value) => (value === null || value === undefined ? null : Number(value)),
    readDoc: parseDoc,
    columnType(type) {
      switch (type) {
        case 'id':
          return sql`TEXT NOT NULL`;
        case 'version':
          return sql`NOT NULL`;
        case 'doc':
          return sql`TEXT NOT NULL`;
        default:
          // No declared type: BLOB affinity keeps every value's storage class as written.
          return sql``;
      }
    },
    indexColumn: (column) => sql.id(column),
    lockRows: sql``,
    indexExpression: (expr) => sql`(${expr})`,
    sideTableOptions: sql` WITHOUT ROWID`,
    columnsQuery: (table) => sql`SELECT name FROM pragma_table_info(${table.name})`,
    indexesQuery: (table) => sql`SELECT name FROM pragma_index_list(${table.name})`,
    storedRuntimeColumns: false,
    indexStatistics: {
      // `sqlite_stat1` exists only once the database was analyzed: no statistics anywhere until then.
      kept: sql`SELECT 1 FROM sqlite_master WHERE "name" = 'sqlite_stat1'`,
      analyzed: (table) => sql`SELECT "idx" FROM sqlite_stat1 WHERE "tbl" = ${table.name}`,
      gather: (index) => sql`ANALYZE ${sql.id(index)}`,
    },
    backfillList(side, main, segments) {
      const path = jsonPath(segments);
      return sql`INSERT INTO ${sql.table(side.name)} (tenant_id, value, id) SELECT "t"."tenant_id", "j"."value", "t"."id" FROM ${sql.table(main.name)} AS "t", json_each("t"."doc", ${path}) AS "j" WHERE json_type("t"."doc", ${path}) = 'array' AND "j"."type" = 'text' ON CONFLICT DO NOTHING`;
    },
  };
}

import type { Scalar } from '@crmkit/core';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import { checkPathSegments, DOC, parseDoc, type CompileOnlyDatabase, type SqlDialect, type SqlFragment } from './sql-dialect.js';
import type { ScalarType, TableName } from './table-layout.js';

/** `'{custom,budget,amount}'::text[]` as an SQL literal, from checked identifier segments. */
const pathLiteral = (segments: readonly string[]) => sql`${sql.lit(`{${checkPathSegments(segments).join(',')}}`)}::text[]`;

const ARRAY_TYPE: Record<ScalarType, SqlFragment> = {
  string: sql`text[]`,
  number: sql`float8[]`,
  boolean: sql`boolean[]`,
};

/**
 * The PostgreSQL dialect. Text columns use `COLLATE "C"` (byte order of UTF-8 = code-point order, the
 * order crmkit defines); numbers are `double precision` (JS numbers); the document is `jsonb`, so custom
 * fields are read with `doc #> '{custom,key}'::text[]` (a checked literal, so an expression index over
 * the same expression serves them) and cast by their declared type.
 */
export function createPostgresDialect(): SqlDialect {
  const kysely = new Kysely<CompileOnlyDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  const at = (segments: readonly string[], doc: SqlFragment = DOC) => sql`(${doc} #> ${pathLiteral(segments)})`;
  return {
    name: 'postgres',
    kysely,
    table: (table: TableName) => (table.schema ? sql.id(table.schema, table.name) : sql.id(table.name)),
    param: (value: Scalar) => value,
    columnValue(value, type) {
      switch (type) {
        case 'string':
          return typeof value === 'string' ? value : null;
        case 'number':
          return typeof value === 'number' && Number.isFinite(value) ? value : null;
        case 'boolean':
          return typeof value === 'boolean' ? value : null;
      }
    },
    customValue(segments, type, doc = DOC) {
      const value = at(segments, doc);
      switch (type) {
        case 'string':
          return sql`(CASE WHEN jsonb_typeof(${value}) = 'string' THEN (${doc} #>> ${pathLiteral(segments)}) END COLLATE "C")`;
        case 'number':
          return sql`(CASE WHEN jsonb_typeof(${value}) = 'number' THEN ${value}::float8 END)`;
        case 'boolean':
          return sql`(CASE WHEN jsonb_typeof(${value}) = 'boolean' THEN ${value}::boolean END)`;
      }
    },
    customContainsAny(segments, values) {
      const value = at(segments);
      return sql`(jsonb_typeof(${value}) = 'array' AND ${value} ?| ${[...values]}::text[])`;
    },
    inList(expr, values, type) {
      return sql`${expr} = ANY(${[...values]}::${ARRAY_TYPE[type]})`;
    },
    orderTerm: (expr: SqlFragment, direction) => (direction === 'desc' ? sql`${expr} DESC NULLS LAST` : sql`${expr} ASC NULLS FIRST`),
    sum: (expr) => sql`COALESCE(SUM(${expr}), 0)`,
    // PostgreSQL keeps column statistics (autovacuum ANALYZE) and chooses between the plans itself.
    unindexed: (expr) => expr,
    readScalar(value, type) {
      if (value === null || value === undefined) return null;
      if (type === 'number' && typeof value === 'string') return Number(value);
      return value as Scalar;
    },
    // COUNT is bigint and SUM/AVG of numeric are numeric: pg returns both as strings.
    readNumber: (value) => (value === null || value === undefined ? null : Number(value)),
    readDoc: parseDoc,
    columnType(type) {
      switch (type) {
        case 'id':
          return sql`text COLLATE "C" NOT NULL`;
        case 'version':
          return sql`double precision NOT NULL`;
        case 'doc':
          return sql`jsonb NOT NULL`;
        case 'string':
          return sql`text COLLATE "C"`;
        case 'number':
          return sql`double precision`;
        case 'boolean':
          return sql`boolean`;
      }
    },
    indexColumn: (column) => sql`${sql.id(column)} NULLS FIRST`,
    lockRows: sql` FOR UPDATE OF "t" SKIP LOCKED`,
    indexExpression: (expr) => sql`(${expr}) NULLS FIRST`,
    sideTableOptions: sql``,
    columnsQuery: (table) =>
      sql`SELECT column_name FROM information_schema.columns WHERE table_name = ${table.name} AND table_schema = COALESCE(${table.schema ?? null}::text, current_schema())`,
    indexesQuery: (table) => sql`SELECT indexname FROM pg_indexes WHERE tablename = ${table.name} AND schemaname = COALESCE(${table.schema ?? null}::text, current_schema())`,
    storedRuntimeColumns: true,
    backfillList(side, main, segments) {
      const name = (t: TableName) => (t.schema ? sql.id(t.schema, t.name) : sql.id(t.name));
      const value = sql`("t"."doc" #> ${[...segments]}::text[])`;
      return sql`INSERT INTO ${name(side)} (tenant_id, value, id) SELECT "t"."tenant_id", "e"."value" #>> '{}', "t"."id" FROM ${name(main)} AS "t" CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(${value}) = 'array' THEN ${value} ELSE '[]'::jsonb END) AS "e"("value") WHERE jsonb_typeof("e"."value") = 'string' ON CONFLICT DO NOTHING`;
    },
  };
}

import type { Row } from '@crmkit/core/storage';
import type Database from 'better-sqlite3';
import type { EntityTable, StorageLayout } from '../src/table-layout.js';

/**
 * The baseline: plain better-sqlite3 prepared statements on the same tables crmkit made. Only table and
 * column names come from crmkit's layout; each insert is one `stmt.run` with the document as JSON text
 * and the field columns read straight from the row (booleans as 0/1), plus the list side-table rows.
 */
export function rawInserter(db: Database.Database, layout: StorageLayout, entity: string): (tenantId: string, row: Row) => void {
  const t: EntityTable = layout.entities.get(entity)!;
  const names = ['tenant_id', 'id', 'version', 'doc', ...t.columns.map((c) => c.column)];
  const insert = db.prepare(`INSERT INTO "${t.table.name}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
  const columns = t.columns.map((c) => ({ segments: c.segments, type: c.type }));
  const lists = [...t.lists.values()].map((l) => ({ segments: l.segments, insert: db.prepare(`INSERT INTO "${l.table.name}" ("tenant_id", "value", "id") VALUES (?, ?, ?)`) }));
  const read = (row: Row, segments: readonly string[]): unknown => {
    let v: unknown = row;
    for (const s of segments) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[s];
    return v;
  };
  return (tenantId, row) => {
    const params: unknown[] = [tenantId, row.id, row.version, JSON.stringify(row)];
    for (const c of columns) {
      const v = read(row, c.segments);
      params.push(c.type === 'boolean' ? (typeof v === 'boolean' ? (v ? 1 : 0) : null) : typeof v === c.type ? v : null);
    }
    insert.run(params);
    for (const l of lists) {
      const values = read(row, l.segments);
      if (Array.isArray(values)) for (const v of new Set(values)) if (typeof v === 'string') l.insert.run(tenantId, v, row.id);
    }
  };
}

/** Sets the pragmas the adapter sets by default (WAL, synchronous=NORMAL, 16 MiB cache): same engine settings on both sides. */
export function rawPragmas(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -16384');
}

import type { Operation } from '../crm/operation.js';

/** How many ids an error lists as examples; `count` always gives the total. */
const EXAMPLES = 10;

/**
 * The records of `entity` whose `field` points at `id`: how many (counted in storage) and the first
 * few ids the acting principal may read, for errors that refuse to remove a record still linked to others.
 */
export async function linkedRecords(op: Operation, entity: string, field: string, id: string): Promise<{ count: number; ids: string[] }> {
  const filter = { op: 'eq' as const, field, value: id };
  const [row] = await op.tx.aggregate(entity, op.tenantId, { filter, metrics: { n: { fn: 'count' } } });
  const count = (row?.values.n as number | undefined) ?? 0;
  // In a view, hidden records still block (and count), but only readable ones are named, and only
  // where the link itself is readable (else the names would tell it).
  if (count === 0 || (op.guard && !op.guard.readable(entity, field))) return { count, ids: [] };
  const { rows } = await op.query(entity, { filter: op.scoped(entity, filter), sort: [{ field: 'id' }], limit: EXAMPLES });
  return { count, ids: rows.map((r) => r.id) };
}

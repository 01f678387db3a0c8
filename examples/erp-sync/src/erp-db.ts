import type { Pool, PoolClient } from 'pg';

/**
 * The ERP's own tables, in the PostgreSQL schema `erp` of the same database as the crm's (schema
 * `crm`). The ERP owns orders, invoices and payments; customers are edited on both sides. Each row
 * the crm knows carries the crm record's id (`crm_contact_id`, `crm_deal_id`, unique) and the crm
 * record carries the row's key as an external ref (system `erp`): the two links make every step of
 * the sync an upsert.
 */
export const ERP_SCHEMA = `
CREATE SCHEMA IF NOT EXISTS erp;
CREATE TABLE IF NOT EXISTS erp.customers (
  id SERIAL PRIMARY KEY,
  customer_no TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  email TEXT,
  phone TEXT,
  crm_contact_id TEXT UNIQUE
);
CREATE TABLE IF NOT EXISTS erp.orders (
  id SERIAL PRIMARY KEY,
  order_no TEXT NOT NULL UNIQUE,
  customer_id INTEGER NOT NULL REFERENCES erp.customers(id),
  total_cents BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  crm_deal_id TEXT UNIQUE
);
CREATE TABLE IF NOT EXISTS erp.invoices (
  id SERIAL PRIMARY KEY,
  invoice_no TEXT NOT NULL UNIQUE,
  order_id INTEGER NOT NULL REFERENCES erp.orders(id),
  amount_cents BIGINT NOT NULL,
  issued_on DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS erp.payments (
  id SERIAL PRIMARY KEY,
  invoice_id INTEGER NOT NULL REFERENCES erp.invoices(id),
  amount_cents BIGINT NOT NULL,
  paid_on DATE NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS erp.customer_no_seq START 5001;
CREATE SEQUENCE IF NOT EXISTS erp.order_no_seq START 90001;
`;

export interface ErpCustomer {
  readonly id: number;
  readonly customer_no: string;
  readonly name: string;
  readonly email: string | null;
  readonly phone: string | null;
  readonly crm_contact_id: string | null;
}

/** An order with what its invoices and payments add up to (cents). */
export interface ErpOrderState {
  readonly order_no: string;
  readonly customer_no: string;
  readonly total_cents: number;
  readonly currency: string;
  readonly crm_deal_id: string | null;
  readonly invoiced_cents: number;
  readonly paid_cents: number;
}

/** Creates the ERP's tables when missing. */
export async function createErpSchema(pool: Pool): Promise<void> {
  await pool.query(ERP_SCHEMA);
}

/** The ERP's data before the crm arrived: two customers, an open order, and an order invoiced and paid. */
export async function seedErp(pool: Pool): Promise<void> {
  await inTransaction(pool, async (db) => {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM erp.customers');
    if (Number(rows[0]!.n) > 0) return;
    await db.query(`INSERT INTO erp.customers (customer_no, name, email, phone) VALUES
      ('K-1001', 'Hans Müller', 'hans.mueller@mueller-maschinenbau.de', '+49 711 123456'),
      ('K-1002', 'Amélie Laurent', 'a.laurent@atelier-laurent.fr', NULL)`);
    await db.query(`INSERT INTO erp.orders (order_no, customer_id, total_cents, currency) VALUES
      ('A-2001', (SELECT id FROM erp.customers WHERE customer_no = 'K-1001'), 1250000, 'EUR'),
      ('A-2002', (SELECT id FROM erp.customers WHERE customer_no = 'K-1002'), 480000, 'EUR')`);
    await db.query(`INSERT INTO erp.invoices (invoice_no, order_id, amount_cents, issued_on) VALUES
      ('R-3001', (SELECT id FROM erp.orders WHERE order_no = 'A-2002'), 480000, '2026-03-01')`);
    await db.query(`INSERT INTO erp.payments (invoice_id, amount_cents, paid_on) VALUES
      ((SELECT id FROM erp.invoices WHERE invoice_no = 'R-3001'), 480000, '2026-03-10')`);
  });
}

export async function inTransaction<T>(pool: Pool, work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  } finally {
    db.release();
  }
}

export async function erpCustomers(pool: Pool): Promise<ErpCustomer[]> {
  return (await pool.query<ErpCustomer>('SELECT * FROM erp.customers ORDER BY id')).rows;
}

export async function erpOrders(pool: Pool): Promise<ErpOrderState[]> {
  const { rows } = await pool.query<ErpOrderState>(`
    SELECT o.order_no, c.customer_no, o.total_cents::int AS total_cents, o.currency, o.crm_deal_id,
      coalesce((SELECT sum(i.amount_cents) FROM erp.invoices i WHERE i.order_id = o.id), 0)::int AS invoiced_cents,
      coalesce((SELECT sum(p.amount_cents) FROM erp.payments p JOIN erp.invoices i ON i.id = p.invoice_id WHERE i.order_id = o.id), 0)::int AS paid_cents
    FROM erp.orders o JOIN erp.customers c ON c.id = o.customer_id ORDER BY o.id`);
  return rows;
}

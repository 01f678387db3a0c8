import Database from 'better-sqlite3';
import { CATALOG, type Sku } from './catalog.js';

/**
 * The shop's own database: its customers, orders and payments, in tables the shop designed (integer
 * ids, prices in cents). crmkit never touches them; the sync reads them and links crm records to
 * their rows through external refs (system `shop`).
 */
export type ShopDb = Database.Database;

export interface ShopCustomer {
  readonly id: number;
  readonly full_name: string;
  readonly email: string;
  readonly phone: string | null;
  readonly company: string | null;
}

export interface ShopOrder {
  readonly id: number;
  readonly customer_id: number;
  readonly placed_at: string;
  readonly total_cents: number;
  readonly currency: string;
  readonly comment: string | null;
}

export interface ShopOrderLine {
  readonly sku: Sku;
  readonly quantity: number;
  readonly unit_price_cents: number;
}

export interface ShopPayment {
  readonly id: number;
  readonly order_id: number;
  readonly amount_cents: number;
  readonly paid_at: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  id INTEGER PRIMARY KEY,
  full_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  phone TEXT,
  company TEXT
);
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  placed_at TEXT NOT NULL,
  total_cents INTEGER NOT NULL,
  currency TEXT NOT NULL DEFAULT 'EUR',
  comment TEXT
);
CREATE TABLE IF NOT EXISTS order_lines (
  order_id INTEGER NOT NULL REFERENCES orders(id),
  sku TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  unit_price_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  amount_cents INTEGER NOT NULL,
  paid_at TEXT NOT NULL
);
`;

/** Customers the shop had before it adopted crmkit (one legacy row has an e-mail the crm refuses). */
const SEED_CUSTOMERS: readonly Omit<ShopCustomer, 'id'>[] = [
  { full_name: 'Ada Lovelace', email: 'ada@analytical-engines.co.uk', phone: '+44 20 7946 0958', company: 'Analytical Engines Ltd' },
  { full_name: 'Grace Hopper', email: 'grace.hopper+shop@gmail.com', phone: '+1 (202) 555-0142', company: null },
  { full_name: 'Charles Babbage', email: 'charles@analytical-engines.co.uk', phone: null, company: 'Analytical Engines' },
  { full_name: 'Alan Turing', email: 'alan.turing(at)bletchley', phone: null, company: null },
];

/**
 * Opens (and on first use creates and seeds) the shop's database.
 *
 * @param filename A SQLite file, or `:memory:`.
 * @returns The open better-sqlite3 database; close it when done.
 */
export function openShopDb(filename: string): ShopDb {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA);
  const count = db.prepare('SELECT count(*) AS n FROM customers').get() as { n: number };
  if (count.n === 0) {
    const insert = db.prepare('INSERT INTO customers (full_name, email, phone, company) VALUES (@full_name, @email, @phone, @company)');
    db.transaction(() => SEED_CUSTOMERS.forEach((c) => insert.run(c)))();
  }
  return db;
}

/** The shop's customer with this e-mail (the shop's own, exact lookup). */
export function customerByEmail(db: ShopDb, email: string): ShopCustomer | undefined {
  return db.prepare('SELECT * FROM customers WHERE email = ?').get(email) as ShopCustomer | undefined;
}

/** Checkout's customer: the account with this e-mail, or a new (guest) account. */
export function findOrCreateCustomer(db: ShopDb, details: { readonly name: string; readonly email: string; readonly phone?: string; readonly company?: string }): ShopCustomer {
  const known = customerByEmail(db, details.email);
  if (known) return known;
  const { lastInsertRowid } = db
    .prepare('INSERT INTO customers (full_name, email, phone, company) VALUES (?, ?, ?, ?)')
    .run(details.name, details.email, details.phone ?? null, details.company ?? null);
  return customer(db, Number(lastInsertRowid));
}

export function customer(db: ShopDb, id: number): ShopCustomer {
  return db.prepare('SELECT * FROM customers WHERE id = ?').get(id) as ShopCustomer;
}

/** Checkout: one order with its lines, priced from the catalogue, in one transaction. @returns The order. */
export function placeOrder(db: ShopDb, customerId: number, cart: readonly { sku: Sku; quantity: number }[], placedAt: string, comment?: string): ShopOrder {
  const total = cart.reduce((sum, l) => sum + l.quantity * CATALOG[l.sku].price, 0);
  return db.transaction(() => {
    const { lastInsertRowid } = db
      .prepare('INSERT INTO orders (customer_id, placed_at, total_cents, currency, comment) VALUES (?, ?, ?, ?, ?)')
      .run(customerId, placedAt, total, 'EUR', comment ?? null);
    const line = db.prepare('INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents) VALUES (?, ?, ?, ?)');
    for (const l of cart) line.run(lastInsertRowid, l.sku, l.quantity, CATALOG[l.sku].price);
    return db.prepare('SELECT * FROM orders WHERE id = ?').get(lastInsertRowid) as ShopOrder;
  })();
}

/** The payment provider confirmed a payment for an order. */
export function recordPayment(db: ShopDb, orderId: number, amountCents: number, paidAt: string): ShopPayment {
  const { lastInsertRowid } = db.prepare('INSERT INTO payments (order_id, amount_cents, paid_at) VALUES (?, ?, ?)').run(orderId, amountCents, paidAt);
  return db.prepare('SELECT * FROM payments WHERE id = ?').get(lastInsertRowid) as ShopPayment;
}

export function orders(db: ShopDb): ShopOrder[] {
  return db.prepare('SELECT * FROM orders ORDER BY id').all() as ShopOrder[];
}

export function orderLines(db: ShopDb, orderId: number): ShopOrderLine[] {
  return db.prepare('SELECT sku, quantity, unit_price_cents FROM order_lines WHERE order_id = ? ORDER BY rowid').all(orderId) as ShopOrderLine[];
}

/** Orders whose payments cover the total. */
export function paidOrders(db: ShopDb): ShopOrder[] {
  return db
    .prepare('SELECT o.* FROM orders o JOIN payments p ON p.order_id = o.id GROUP BY o.id HAVING sum(p.amount_cents) >= o.total_cents ORDER BY o.id')
    .all() as ShopOrder[];
}

/** The shop's nightly customer file, as its back office exports it: `;`-separated, one customer a line. */
export function customerFile(db: ShopDb): string {
  const rows = db.prepare('SELECT * FROM customers ORDER BY id').all() as ShopCustomer[];
  const cell = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[;"\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = rows.map((r) => [r.id, r.full_name, r.email, r.phone, r.company].map(cell).join(';'));
  return ['Customer no;Name;E-mail;Phone;Company', ...lines].join('\r\n') + '\r\n';
}

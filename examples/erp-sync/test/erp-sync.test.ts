import { testPostgres, type TestPostgres } from '@crmkit/test-support/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCrm, PIPELINE_ID, type ErpCrm } from '../src/crm-setup.js';
import { createErpSchema, erpCustomers, erpOrders, seedErp } from '../src/erp-db.js';
import { CONSUMER, runSync } from '../src/erp-sync.js';

let server: TestPostgres;
let admin: pg.Pool;
beforeAll(async () => {
  server = await testPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 1 });
});
afterAll(async () => {
  await admin?.end();
  await server?.release();
});

/** A database of its own per test: the ERP in schema `erp`, the crm in schema `crm`. */
async function freshDatabase(name: string): Promise<{ pool: pg.Pool; crm: ErpCrm }> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  await createErpSchema(pool);
  await seedErp(pool);
  return { pool, crm: await openCrm(pool) };
}

describe('ERP ⇄ crm sync on PostgreSQL', () => {
  it('brings both sides in step, and a second run writes nothing on either side', async () => {
    const { pool, crm } = await freshDatabase('erp_sync_twice');
    try {
      // Sales won a deal in the crm for a new client; the ERP has no customer or order for it yet.
      const sofia = await crm.contacts.create({ name: 'Sofia Rossi', email: 'sofia.rossi@rossi-arredamenti.it' });
      const prospect = await crm.contacts.create({ name: 'Only A. Prospect', email: 'prospect@example.org' });
      const won = await crm.deals.create({ title: 'Showroom fit-out', pipelineId: PIPELINE_ID, contactId: sofia.id, value: { amount: 2_150_000, currency: 'EUR' } });
      await crm.deals.win(won.id);

      const first = await runSync(crm, pool);
      expect(first.toErp).toEqual({ customersCreated: 1, customersUpdated: 0, ordersCreated: 1 });
      expect(first.fromErp.contacts).toMatchObject({ created: 2 });
      expect(first.fromErp.deals).toMatchObject({ created: 2, won: 1 });
      expect(first.parked).toBe(0);

      // ERP side: every customer and order carries the crm id; Sofia's won deal became an ERP order.
      const customers = await erpCustomers(pool);
      expect(customers.map((c) => c.name)).toEqual(['Hans Müller', 'Amélie Laurent', 'Sofia Rossi']);
      expect(customers.every((c) => c.crm_contact_id)).toBe(true);
      const orders = await erpOrders(pool);
      expect(orders.map((o) => [o.order_no, o.total_cents])).toEqual([['A-2001', 1_250_000], ['A-2002', 480_000], ['A-90001', 2_150_000]]);
      expect(orders.every((o) => o.crm_deal_id)).toBe(true);
      expect(orders[2]!.crm_deal_id).toBe(won.id);

      // crm side: one contact per ERP customer (linked by erp:<customer_no>), the prospect left alone.
      for (const c of customers) expect((await crm.contacts.getByExternalRef('erp', c.customer_no)).id).toBe(c.crm_contact_id);
      expect((await crm.contacts.get(prospect.id)).externalRefs).toBeUndefined();
      expect((await crm.contacts.list()).items).toHaveLength(4);
      const open = await crm.deals.getByExternalRef('erp', 'A-2001');
      expect([open.status, open.stageKey, open.value.amount, open.contactId]).toEqual(['open', 'ordered', 1_250_000, customers[0]!.crm_contact_id]);
      expect((await crm.deals.getByExternalRef('erp', 'A-2002')).status).toBe('won'); // invoiced and paid in the ERP
      expect((await crm.deals.get(won.id)).externalRefs).toEqual([{ system: 'erp', id: 'A-90001' }]);
      expect((await crm.deals.list()).items).toHaveLength(3);

      // The second run: nothing to do on either side — no ERP row, no crm write, no feed event.
      const head = await crm.events.head();
      const erpBefore = JSON.stringify([await erpCustomers(pool), await erpOrders(pool)]);
      const second = await runSync(crm, pool);
      expect(second.toErp).toEqual({ customersCreated: 0, customersUpdated: 0, ordersCreated: 0 });
      expect(second.fromErp).toEqual({ contacts: { created: 0, updated: 0, unchanged: 3 }, deals: { created: 0, invoiced: 0, won: 0, unchanged: 3 } });
      expect(second.handled).toBe(0);
      expect(await crm.events.head()).toBe(head);
      expect(JSON.stringify([await erpCustomers(pool), await erpOrders(pool)])).toBe(erpBefore);
      expect((await crm.contacts.list()).items).toHaveLength(4);
      expect((await crm.deals.list()).items).toHaveLength(3);
      expect((await crm.events.status(CONSUMER)).lag).toBe(0);
    } finally {
      await crm.close();
      await pool.end();
    }
  });

  it('carries a change made on each side to the other, and an invoice moves the deal', async () => {
    const { pool, crm } = await freshDatabase('erp_sync_changes');
    try {
      await runSync(crm, pool);
      // ERP: Hans's phone changes and order A-2001 is invoiced. crm: sales fix Amélie's e-mail.
      await pool.query(`UPDATE erp.customers SET phone = '+49 711 654321' WHERE customer_no = 'K-1001'`);
      await pool.query(`INSERT INTO erp.invoices (invoice_no, order_id, amount_cents, issued_on) SELECT 'R-3002', id, total_cents, '2026-03-15' FROM erp.orders WHERE order_no = 'A-2001'`);
      const amelie = await crm.contacts.getByExternalRef('erp', 'K-1002');
      await crm.contacts.update(amelie.id, { version: amelie.version, email: 'amelie@atelier-laurent.fr' });

      const run = await runSync(crm, pool);
      expect(run.toErp.customersUpdated).toBe(1);
      expect(run.fromErp.contacts.updated).toBe(1);
      expect(run.fromErp.deals.invoiced).toBe(1);
      expect((await crm.contacts.getByExternalRef('erp', 'K-1001')).phone).toMatch(/654321$/);
      expect((await erpCustomers(pool)).find((c) => c.customer_no === 'K-1002')!.email).toBe('amelie@atelier-laurent.fr');
      expect((await crm.deals.getByExternalRef('erp', 'A-2001')).stageKey).toBe('invoiced');

      const again = await runSync(crm, pool);
      expect(again.toErp).toEqual({ customersCreated: 0, customersUpdated: 0, ordersCreated: 0 });
      expect(again.fromErp.contacts).toEqual({ created: 0, updated: 0, unchanged: 2 });
      expect(again.fromErp.deals).toEqual({ created: 0, invoiced: 0, won: 0, unchanged: 2 });
    } finally {
      await crm.close();
      await pool.end();
    }
  });
});

import { startPostgresServer } from '@crmkit/test-support/postgres';
import pg from 'pg';
import { openCrm, PIPELINE_ID } from './crm-setup.js';
import { createErpSchema, erpCustomers, erpOrders, seedErp } from './erp-db.js';
import { runSync, type SyncReport } from './erp-sync.js';

// A throwaway PostgreSQL, started the way the tests start theirs (npm binaries, no install); or yours: ERP_DATABASE_URL.
const own = process.env.ERP_DATABASE_URL;
const server = own ? undefined : await startPostgresServer();
const url = own ?? server!.url;
console.log(server ? `PostgreSQL ${server.version} (${server.source}) on port ${server.port}, deleted at exit` : `PostgreSQL at ${url}`);

const pool = new pg.Pool({ connectionString: url, max: 4 });
try {
  await createErpSchema(pool);
  await seedErp(pool);
  const crm = await openCrm(pool, 'sales-lena');

  // Sales work in the crm: a new client, a deal won there (the ERP has no order for it yet).
  const existing = (await crm.contacts.list({ limit: 1 })).items;
  if (existing.length === 0) {
    const contact = await crm.contacts.create({ name: 'Sofia Rossi', email: 'sofia.rossi@rossi-arredamenti.it', phone: '+39 02 1234567' });
    const deal = await crm.deals.create({ title: 'Showroom fit-out', pipelineId: PIPELINE_ID, contactId: contact.id, value: { amount: 2_150_000, currency: 'EUR' } });
    await crm.deals.win(deal.id);
  }

  print('First run', await runSync(crm, pool));
  print('Second run (nothing changed)', await runSync(crm, pool));

  // Each side changes something; the next run carries it across.
  await pool.query(`UPDATE erp.customers SET phone = '+49 711 654321' WHERE customer_no = 'K-1001'`);
  const sofia = (await crm.contacts.list()).items.find((c) => c.name === 'Sofia Rossi')!;
  await crm.contacts.update(sofia.id, { version: sofia.version, email: 'sofia@rossi-arredamenti.it' });
  print('Third run (one change on each side)', await runSync(crm, pool));

  console.log('\nERP customers');
  for (const c of await erpCustomers(pool)) console.log(`  ${c.customer_no}  ${c.name.padEnd(16)} ${(c.email ?? '').padEnd(38)} ${(c.phone ?? '').padEnd(16)} crm ${c.crm_contact_id}`);
  console.log('ERP orders');
  for (const o of await erpOrders(pool)) console.log(`  ${o.order_no}  ${o.customer_no}  ${(o.total_cents / 100).toFixed(2).padStart(10)} ${o.currency}  paid ${(o.paid_cents / 100).toFixed(2).padStart(10)}  crm ${o.crm_deal_id}`);
  console.log('crm deals');
  for (const d of (await crm.deals.list()).items) console.log(`  ${d.id}  ${d.title.padEnd(18)} ${d.status.padEnd(5)} ${d.stageKey.padEnd(8)} ${d.externalRefs?.map((r) => `${r.system}:${r.id}`).join(' ') ?? ''}`);
  await crm.close();
} finally {
  await pool.end();
  await server?.stop();
}

function print(title: string, r: SyncReport): void {
  console.log(`\n${title}`);
  console.log(`  crm → ERP: ${r.toErp.customersCreated} customers created, ${r.toErp.customersUpdated} updated, ${r.toErp.ordersCreated} orders created`);
  const { contacts: c, deals: d } = r.fromErp;
  console.log(`  ERP → crm: contacts ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged; deals ${d.created} created, ${d.invoiced} invoiced, ${d.won} won, ${d.unchanged} unchanged`);
  console.log(`  feed: ${r.handled} events handled, ${r.parked} parked`);
}

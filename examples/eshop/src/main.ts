import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCrm } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { duplicates } from '@crmkit/core/duplicates';
import { imports } from '@crmkit/core/imports';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { SAMPLE_CHECKOUTS } from './catalog.js';
import { importCustomerFile, renderImportReport } from './nightly-import.js';
import { syncOrders, syncPayments } from './order-sync.js';
import { customerFile, findOrCreateCustomer, openShopDb, placeOrder, recordPayment } from './shop-db.js';
import { ensurePipeline, PIPELINE_ID } from './shop-flow.js';
import { renderBoard } from './summary.js';

// Two SQLite files side by side: the shop's own tables, and the crm's. Re-runs reuse them; delete the folder to start over.
const dir = process.env.CRMKIT_DEMO_DIR ?? fileURLToPath(new URL('../data', import.meta.url));
mkdirSync(dir, { recursive: true });
console.log(`Shop data: ${join(dir, 'shop.sqlite')}\nCRM data:  ${join(dir, 'crm.sqlite')}`);

const shop = openShopDb(join(dir, 'shop.sqlite'));
const crm = await createCrm({
  storage: createSqliteStorage({ filename: join(dir, 'crm.sqlite') }),
  tenantId: 'demo-shop',
  actor: { userId: 'manager-anna' },
  defaultCurrency: 'EUR',
  features: [activities(), duplicates(), imports()],
});
await ensurePipeline(crm);

// 1. Last night's import of the shop's customer file: the per-row report.
console.log('\nNightly import of the customer file');
console.log(renderImportReport(await importCustomerFile(crm, customerFile(shop))));

// 2. Today's checkouts land in the shop's own tables.
const now = new Date().toISOString();
const placed = SAMPLE_CHECKOUTS.map((c) => placeOrder(shop, findOrCreateCustomer(shop, c.customer).id, c.cart, now, c.comment));
console.log(`\nCheckout: orders ${placed.map((o) => `#${o.id}`).join(', ')} placed in the shop`);

// 3. The sync turns new orders into deals, linked to the shop's rows by external refs.
console.log('Order sync');
for (const r of await syncOrders(crm, shop, 'manager-anna')) console.log(`  order #${r.orderId} → deal ${r.dealId}, contact ${r.contactId} (known by ${r.customer})`);

// 4. The first order is paid: its deal is won. The third one gets a quote.
recordPayment(shop, placed[0]!.id, placed[0]!.total_cents, now);
for (const deal of await syncPayments(crm, shop)) console.log(`Payment received → deal ${deal.id} won (${deal.title})`);
const quoted = await crm.deals.getByExternalRef('shop', `order-${placed[2]!.id}`);
await crm.deals.advance(quoted.id);

console.log('\nOpen deals by stage');
console.log(renderBoard(await crm.deals.board(PIPELINE_ID)));
await crm.close();
shop.close();

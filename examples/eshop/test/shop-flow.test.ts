import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { SAMPLE_CHECKOUTS } from '../src/catalog.js';
import { importCustomerFile } from '../src/nightly-import.js';
import { syncOrders, syncPayments } from '../src/order-sync.js';
import { customerByEmail, customerFile, findOrCreateCustomer, openShopDb, placeOrder, recordPayment, type ShopDb } from '../src/shop-db.js';
import { ensurePipeline, PIPELINE_ID } from '../src/shop-flow.js';
import { renderBoard } from '../src/summary.js';

const AT = '2026-03-02T09:00:00.000Z';

function checkoutAll(shop: ShopDb) {
  return SAMPLE_CHECKOUTS.map((c) => placeOrder(shop, findOrCreateCustomer(shop, c.customer).id, c.cart, AT, c.comment));
}

async function setup() {
  const { crm } = await createTestCrm();
  await ensurePipeline(crm);
  await ensurePipeline(crm); // re-runs find the pipeline
  return { crm, shop: openShopDb(':memory:') };
}

describe('e-shop integration', () => {
  it('imports the customer file with a per-row report: created, failed with the API issues, a returning customer skipped as a duplicate', async () => {
    const { crm, shop } = await setup();
    const report = await importCustomerFile(crm, customerFile(shop));
    expect(report.rows.map((r) => [r.row, r.outcome])).toEqual([
      [1, 'created'],
      [2, 'created'],
      [3, 'created'],
      [4, 'failed'],
    ]);
    expect(report.rows[3]!.error).toBe('VALIDATION');
    expect(report.rows[3]!.issues!.map((i) => i.path.join('.'))).toEqual(['email']);
    const contacts = await crm.contacts.list();
    expect(contacts.items.map((c) => c.email).sort()).toEqual(['ada@analytical-engines.co.uk', 'charles@analytical-engines.co.uk', 'grace.hopper+shop@gmail.com']);

    // Grace checks out as a guest: the shop makes her a second account. The next night's file has it as row 5.
    findOrCreateCustomer(shop, SAMPLE_CHECKOUTS[1]!.customer);
    const next = await importCustomerFile(crm, customerFile(shop));
    expect(next.counts).toEqual({ created: 0, updated: 0, skipped: 4, failed: 1 });
    expect(next.rows[4]).toMatchObject({ row: 5, outcome: 'skipped', reason: 'duplicate', duplicateOf: [report.rows[1]!.id] });
    expect(next.rows.slice(0, 3).every((r) => r.reason === 'unchanged')).toBe(true);
    expect((await crm.contacts.list()).items).toHaveLength(3);
  });

  it('turns shop orders into deals linked by external refs, recognises returning customers, and wins paid orders', async () => {
    const { crm, shop } = await setup();
    await importCustomerFile(crm, customerFile(shop));
    const placed = checkoutAll(shop);
    const first = await syncOrders(crm, shop, 'anna');
    // Every customer was imported: matched by e-mail (Grace's guest address is an alias of her Gmail address).
    expect(first.map((r) => [r.orderId, r.customer])).toEqual(placed.map((o) => [o.id, 'e-mail']));
    const grace = await crm.contacts.getByExternalRef('shop', `customer-${customerByEmail(shop, 'gracehopper@gmail.com')!.id}`);
    expect(grace.email).toBe('grace.hopper+shop@gmail.com');

    const deal = await crm.deals.getByExternalRef('shop', `order-${placed[0]!.id}`);
    expect(deal.value).toEqual({ amount: placed[0]!.total_cents, currency: 'EUR' });
    expect(deal.lineItems.map((l) => [l.productRef, l.quantity])).toEqual([['CHAIR-ERGO', 12], ['DESK-OAK', 12], ['INSTALL', 1]]);
    expect(deal.ownerId).toBe('anna');
    expect(deal.externalRefs).toEqual([{ system: 'shop', id: `order-${placed[0]!.id}` }]);
    const lead = await crm.leads.getByExternalRef('shop', `order-${placed[0]!.id}`);
    expect(lead.status).toBe('converted');
    // Ada and Charles work at the same company: one company, matched by e-mail domain.
    const charlesDeal = await crm.deals.getByExternalRef('shop', `order-${placed[2]!.id}`);
    expect(charlesDeal.companyId).toBe(deal.companyId);

    // Re-running the sync changes nothing; the next orders find their contacts by the shop's customer id.
    expect(await syncOrders(crm, shop, 'anna')).toEqual([]);
    const next = checkoutAll(shop);
    const second = await syncOrders(crm, shop, 'anna');
    expect(second.map((r) => [r.orderId, r.customer])).toEqual(next.map((o) => [o.id, 'shop id']));
    expect(second.map((r) => r.contactId)).toEqual(first.map((r) => r.contactId));
    expect((await crm.contacts.list()).items).toHaveLength(3);
    expect((await crm.deals.list()).items).toHaveLength(6);

    // A payment covering the order marks its deal won, once.
    recordPayment(shop, placed[0]!.id, placed[0]!.total_cents - 1, AT);
    expect(await syncPayments(crm, shop)).toEqual([]); // not fully paid yet
    recordPayment(shop, placed[0]!.id, 1, AT);
    const won = await syncPayments(crm, shop);
    expect(won.map((d) => [d.id, d.status])).toEqual([[deal.id, 'won']]);
    expect(await syncPayments(crm, shop)).toEqual([]);
    expect((await crm.deals.get(deal.id)).status).toBe('won');

    const table = renderBoard(await crm.deals.board(PIPELINE_ID));
    expect(table.split('\n')[2]).toMatch(/^Order placed\s+5\s+€13,607\.40\s+€2,721\.48$/);
  });

  it('the next night reports the customers the sync linked as unchanged, and writes nothing', async () => {
    const { crm, shop } = await setup();
    await importCustomerFile(crm, customerFile(shop));
    checkoutAll(shop);
    await syncOrders(crm, shop, 'anna');
    const versions = (await crm.contacts.list()).items.map((c) => c.version);
    const next = await importCustomerFile(crm, customerFile(shop));
    expect((await crm.contacts.list()).items.map((c) => c.version)).toEqual(versions);
    expect(next.counts).toEqual({ created: 0, updated: 0, skipped: 4, failed: 1 }); // 3 unchanged, Grace's guest account a duplicate
  });

  it('creates a contact for a customer the crm has never seen, and links it to the shop customer', async () => {
    const { crm, shop } = await setup();
    const [order] = [placeOrder(shop, customerByEmail(shop, 'charles@analytical-engines.co.uk')!.id, [{ sku: 'LAMP-LED', quantity: 1 }], AT)];
    const [result] = await syncOrders(crm, shop, 'anna');
    expect(result).toMatchObject({ orderId: order!.id, customer: 'new' });
    const contact = await crm.contacts.get(result!.contactId);
    expect(contact.externalRefs).toEqual([{ system: 'shop', id: `customer-${order!.customer_id}` }]);
  });
});

import { type Contact, type Deal } from '@crmkit/core';
import { CATALOG } from './catalog.js';
import { findLinked, SHOP, shopRef } from './external-refs.js';
import { customer, orderLines, orders, paidOrders, type ShopDb, type ShopOrder } from './shop-db.js';
import { PIPELINE_ID, type ShopCrm } from './shop-flow.js';

/** How the sync knew (or did not know) an order's customer. */
export type CustomerMatch = 'shop id' | 'e-mail' | 'phone' | 'new';

/** What the sync did with one order. */
export interface OrderSyncResult {
  readonly orderId: number;
  readonly dealId: string;
  readonly contactId: string;
  /** `shop id`: a contact already linked to this shop customer; `e-mail` / `phone`: matched so and linked now; `new`: a new contact. */
  readonly customer: CustomerMatch;
}

/**
 * Brings the shop's orders into the crm: each order not yet linked becomes a lead (linked to the
 * order by external ref `shop:order-<id>`), is qualified and converted into a deal carrying the same
 * ref and the order's lines. The customer's contact is found by the shop customer's ref, else by
 * e-mail (the conversion's identity match: case, provider aliases such as Gmail's dots and `+tags`),
 * else created; the contact then carries the shop customer's ref, so the next order finds it directly.
 * Re-runs skip orders whose deal exists: the refs make the sync idempotent.
 *
 * @param crm The shop's crm.
 * @param db The shop's database.
 * @param ownerId The sales manager who owns the new deals.
 * @returns One result per order synced in this run (orders synced before are left out).
 */
export async function syncOrders(crm: ShopCrm, db: ShopDb, ownerId: string): Promise<OrderSyncResult[]> {
  const results: OrderSyncResult[] = [];
  for (const order of orders(db)) {
    const ref = shopRef.order(order.id);
    if (await findLinked(() => crm.deals.getByExternalRef(SHOP, ref))) continue;
    results.push(await syncOrder(crm, db, order, ownerId));
  }
  return results;
}

async function syncOrder(crm: ShopCrm, db: ShopDb, order: ShopOrder, ownerId: string): Promise<OrderSyncResult> {
  const buyer = customer(db, order.customer_id);
  const customerRef = shopRef.customer(buyer.id);
  const known = await findLinked(() => crm.contacts.getByExternalRef(SHOP, customerRef));
  const lineItems = orderLines(db, order.id).map((l) => ({ productRef: l.sku, name: CATALOG[l.sku].name, quantity: l.quantity, unitPrice: l.unit_price_cents }));
  // The lead is keyed by the order too: a crash between these steps and a re-run continues with the same lead.
  const { record: lead } = await crm.leads.upsertByExternalRef(SHOP, shopRef.order(order.id), {
    name: buyer.full_name,
    email: buyer.email,
    ...(buyer.phone ? { phone: buyer.phone } : {}),
    ...(buyer.company ? { companyName: buyer.company } : {}),
    title: `Order ${order.id}: ${lineItems.map((l) => `${l.quantity}× ${l.name}`).join(', ')}`,
    ...(order.comment ? { message: order.comment } : {}),
    source: 'shop',
    expectedValue: { amount: order.total_cents, currency: order.currency },
  });
  if (lead.status === 'new') await crm.leads.qualify(lead.id);
  // Without a linked contact, the conversion matches one by e-mail, then phone (or creates it).
  const { deal, contact, contactMatchedBy } = await crm.leads.convert(lead.id, {
    ownerId,
    ...(known ? { contactId: known.id } : {}),
    deal: { pipelineId: PIPELINE_ID, currency: order.currency, lineItems, externalRefs: [{ system: SHOP, id: shopRef.order(order.id) }] },
  });
  await linkCustomer(crm, contact, customerRef);
  const match: CustomerMatch = known ? 'shop id' : contactMatchedBy === 'email' ? 'e-mail' : contactMatchedBy === 'phone' ? 'phone' : 'new';
  return { orderId: order.id, dealId: deal!.id, contactId: contact.id, customer: match };
}

/** Adds the shop customer's ref to the contact (a contact may hold several: one person, two shop accounts). */
async function linkCustomer(crm: ShopCrm, contact: Contact, customerRef: string): Promise<void> {
  const refs = contact.externalRefs ?? [];
  if (refs.some((r) => r.system === SHOP && r.id === customerRef)) return;
  await crm.contacts.update(contact.id, { version: contact.version, externalRefs: [...refs, { system: SHOP, id: customerRef }] });
}

/**
 * Marks the deal of every fully paid order won (`crm.deals.win`), found by the order's external ref.
 * Deals already won are left alone, so re-runs change nothing.
 *
 * @returns The deals won in this run.
 */
export async function syncPayments(crm: ShopCrm, db: ShopDb): Promise<Deal[]> {
  const won: Deal[] = [];
  for (const order of paidOrders(db)) {
    const deal = await findLinked(() => crm.deals.getByExternalRef(SHOP, shopRef.order(order.id)));
    if (!deal || deal.status !== 'open') continue; // not synced yet (the next run wins it), or already closed
    won.push(await crm.deals.win(deal.id));
  }
  return won;
}

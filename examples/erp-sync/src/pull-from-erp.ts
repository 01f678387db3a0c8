import { isCrmError, type Contact, type Deal } from '@crmkit/core';
import type { Pool } from 'pg';
import { ERP, PIPELINE_ID, type ErpCrm } from './crm-setup.js';
import { erpCustomers, erpOrders, type ErpCustomer, type ErpOrderState } from './erp-db.js';

/** What one pull changed in the crm. */
export interface PullReport {
  readonly contacts: { created: number; updated: number; unchanged: number };
  readonly deals: { created: number; invoiced: number; won: number; unchanged: number };
}

async function linked<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (isCrmError(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}

/**
 * ERP → crm: every ERP customer becomes (or updates) the contact linked to it by external ref
 * `erp:<customer_no>`; every ERP order becomes the deal linked by `erp:<order_no>`; an invoiced
 * order moves its deal to the `invoiced` stage and a paid one wins it. Upserts by external ref make
 * a re-run write nothing (an upsert that changes nothing records no event either), and the crm ids
 * are written back into the ERP rows.
 *
 * @returns Counts of what changed.
 */
export async function pullFromErp(crm: ErpCrm, pool: Pool): Promise<PullReport> {
  const contacts = { created: 0, updated: 0, unchanged: 0 };
  const deals = { created: 0, invoiced: 0, won: 0, unchanged: 0 };
  for (const customer of await erpCustomers(pool)) {
    const { record, outcome } = await pullCustomer(crm, customer);
    contacts[outcome]++;
    await pool.query('UPDATE erp.customers SET crm_contact_id = $1 WHERE id = $2 AND crm_contact_id IS DISTINCT FROM $1', [record.id, customer.id]);
  }
  for (const order of await erpOrders(pool)) {
    const { created, moved } = await pullOrder(crm, pool, order);
    if (created) deals.created++;
    if (moved) deals[moved]++;
    if (!created && !moved) deals.unchanged++;
  }
  return { contacts, deals };
}

async function pullCustomer(crm: ErpCrm, customer: ErpCustomer) {
  // The crm made this customer (see push-to-erp) but stopped before it stored the ERP's number: link it now, not a second contact.
  if (customer.crm_contact_id && !(await linked(() => crm.contacts.getByExternalRef(ERP, customer.customer_no)))) {
    const contact = await crm.contacts.get(customer.crm_contact_id);
    await crm.contacts.update(contact.id, { version: contact.version, externalRefs: [...(contact.externalRefs ?? []), { system: ERP, id: customer.customer_no }] });
  }
  return crm.contacts.upsertByExternalRef(ERP, customer.customer_no, {
    name: customer.name,
    ...(customer.email ? { email: customer.email } : {}),
    ...(customer.phone ? { phone: customer.phone } : {}),
  });
}

async function pullOrder(crm: ErpCrm, pool: Pool, order: ErpOrderState): Promise<{ created: boolean; moved?: 'invoiced' | 'won' }> {
  let deal: Deal | undefined = await linked(() => crm.deals.getByExternalRef(ERP, order.order_no));
  const created = !deal;
  if (!deal) {
    const contact: Contact = await crm.contacts.getByExternalRef(ERP, order.customer_no);
    // An ERP order is a deal that reached the `ordered` stage; the ERP keeps its header, the crm its funnel.
    ({ record: deal } = await crm.deals.upsertByExternalRef(ERP, order.order_no, {
      title: `Order ${order.order_no}`,
      pipelineId: PIPELINE_ID,
      stageKey: 'ordered',
      contactId: contact.id,
      value: { amount: order.total_cents, currency: order.currency },
    }));
  }
  if (order.crm_deal_id !== deal.id) await pool.query('UPDATE erp.orders SET crm_deal_id = $1 WHERE order_no = $2', [deal.id, order.order_no]);
  if (deal.status !== 'open') return { created };
  if (order.paid_cents >= order.total_cents) {
    await crm.deals.win(deal.id);
    return { created, moved: 'won' };
  }
  if (order.invoiced_cents >= order.total_cents && deal.stageKey !== 'invoiced') {
    await crm.deals.advance(deal.id, { toStage: 'invoiced' });
    return { created, moved: 'invoiced' };
  }
  return { created };
}

import { isCrmError, type Contact, type CrmEvent } from '@crmkit/core';
import type { Pool } from 'pg';
import { ERP, erpKey, type ErpCrm } from './crm-setup.js';

/** What the crm → ERP side changed in the ERP. */
export interface PushReport {
  customersCreated: number;
  customersUpdated: number;
  ordersCreated: number;
}

/** The events the ERP cares about: contact changes (for linked customers) and deals won in the crm. */
export const PUSH_EVENTS = ['contact.created', 'contact.updated', 'deal.won'] as const;

/**
 * The handler of the `erp-sync` feed consumer (crm → ERP). It works from the record's current
 * state, not from the event's payload, so a redelivered or late event writes the same thing again;
 * every ERP write is an upsert on the crm id (`crm_contact_id`, `crm_deal_id` are unique) or an
 * update guarded by `IS DISTINCT FROM`, so the at-least-once delivery of the feed has exactly-once
 * effects in the ERP.
 *
 * - A contact linked to an ERP customer (`erp:<customer_no>`): the customer's name, e-mail and phone
 *   follow the crm. Contacts without a link stay in the crm (prospects are not ERP customers).
 * - A deal won in the crm without an ERP order: the ERP gets the order (and the customer, when the
 *   contact has none yet), and the deal and contact get the ERP numbers as external refs.
 *
 * @param crm The crm (reads the records, writes the refs back).
 * @param pool The ERP's database.
 * @param report Counters the handler adds to.
 * @returns The handler to pass to `crm.events.consume`.
 */
export function pushToErp(crm: ErpCrm, pool: Pool, report: PushReport): (event: CrmEvent) => Promise<void> {
  return async (event) => {
    if (event.type === 'deal.won') return pushWonDeal(crm, pool, report, event.subjectId);
    const contact = await current(() => crm.contacts.get(event.subjectId));
    if (contact && erpKey(contact)) await pushContact(crm, pool, report, contact, false);
  };
}

async function current<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isCrmError(error, 'NOT_FOUND')) return undefined; // removed since: nothing to send
    throw error;
  }
}

/** Sends the contact to the ERP. @returns The ERP customer's id, or undefined when it is not a customer and `create` is false. */
async function pushContact(crm: ErpCrm, pool: Pool, report: PushReport, contact: Contact, create: boolean): Promise<number | undefined> {
  const values = [contact.name, contact.email ?? null, contact.phone ?? null];
  const key = erpKey(contact);
  if (key) {
    const updated = await pool.query<{ id: number }>(
      `UPDATE erp.customers SET name = $2, email = $3, phone = $4 WHERE customer_no = $1 AND (name, email, phone) IS DISTINCT FROM ($2, $3, $4) RETURNING id`,
      [key, ...values],
    );
    if (updated.rowCount) report.customersUpdated++;
    return updated.rows[0]?.id ?? (await pool.query<{ id: number }>('SELECT id FROM erp.customers WHERE customer_no = $1', [key])).rows[0]?.id;
  }
  if (!create) return undefined;
  // Keyed by the crm id: a retry after a crash finds the row made before instead of making a second one.
  const { rows } = await pool.query<{ id: number; customer_no: string; inserted: boolean }>(
    `INSERT INTO erp.customers (customer_no, name, email, phone, crm_contact_id) VALUES ('K-' || nextval('erp.customer_no_seq'), $1, $2, $3, $4)
     ON CONFLICT (crm_contact_id) DO UPDATE SET crm_contact_id = EXCLUDED.crm_contact_id RETURNING id, customer_no, (xmax = 0) AS inserted`,
    [...values, contact.id],
  );
  if (rows[0]!.inserted) report.customersCreated++;
  await crm.contacts.update(contact.id, { version: contact.version, externalRefs: [...(contact.externalRefs ?? []), { system: ERP, id: rows[0]!.customer_no }] });
  return rows[0]!.id;
}

async function pushWonDeal(crm: ErpCrm, pool: Pool, report: PushReport, dealId: string): Promise<void> {
  const deal = await current(() => crm.deals.get(dealId));
  if (!deal || deal.status !== 'won' || erpKey(deal)) return; // reopened since, or an ERP order already
  if (!deal.contactId) throw new Error(`deal ${deal.id} has no contact: the ERP needs a customer for its order`); // retried, then parked for a person to fix
  const customerId = await pushContact(crm, pool, report, await crm.contacts.get(deal.contactId), true);
  const { rows } = await pool.query<{ order_no: string; inserted: boolean }>(
    `INSERT INTO erp.orders (order_no, customer_id, total_cents, currency, crm_deal_id) VALUES ('A-' || nextval('erp.order_no_seq'), $1, $2, $3, $4)
     ON CONFLICT (crm_deal_id) DO UPDATE SET crm_deal_id = EXCLUDED.crm_deal_id RETURNING order_no, (xmax = 0) AS inserted`,
    [customerId, deal.value.amount, deal.value.currency, deal.id],
  );
  if (rows[0]!.inserted) report.ordersCreated++;
  await crm.deals.update(deal.id, { version: deal.version, externalRefs: [...(deal.externalRefs ?? []), { system: ERP, id: rows[0]!.order_no }] });
}

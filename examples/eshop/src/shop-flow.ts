import { isCrmError, type Crm, type CrmWith, type Deal, type Pipeline } from '@crmkit/core';
import type { ActivitiesFeature } from '@crmkit/core/activities';
import type { DuplicatesFeature } from '@crmkit/core/duplicates';
import { CATALOG, type OrderRequest } from './catalog.js';

export const PIPELINE_ID = 'pl_eshop';

/** Creates the shop's funnel on first run; later runs find it (re-runs are safe). */
export async function ensurePipeline(crm: Crm): Promise<Pipeline> {
  try {
    return await crm.pipelines.get(PIPELINE_ID);
  } catch (error) {
    if (!isCrmError(error, 'NOT_FOUND')) throw error;
    return crm.pipelines.create({
      id: PIPELINE_ID,
      name: 'E-shop orders',
      stages: [
        { key: 'request', name: 'Quote requested', probability: 20, rottenDays: 2 },
        { key: 'quoted', name: 'Quote sent', probability: 50, rottenDays: 5 },
        { key: 'invoiced', name: 'Invoice sent', probability: 90, rottenDays: 10 },
      ],
    });
  }
}

/** The shop's crm: the core plus activities (the manager's calls) and duplicates (returning customers). */
export type ShopCrm = CrmWith<[ActivitiesFeature, DuplicatesFeature]>;

/**
 * One order request through the funnel's first steps: it becomes a lead (linked to an existing
 * client when the duplicate check finds one), is qualified and converted into a deal with the cart
 * as line items, and the manager logs the follow-up call.
 */
export async function processOrderRequest(crm: ShopCrm, request: OrderRequest, managerId: string): Promise<Deal> {
  const lineItems = request.cart.map((line) => ({
    productRef: line.sku,
    name: CATALOG[line.sku].name,
    quantity: line.quantity,
    unitPrice: CATALOG[line.sku].price,
  }));
  const amount = lineItems.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  const lead = await crm.leads.create({
    name: request.customer.name,
    email: request.customer.email,
    phone: request.customer.phone,
    companyName: request.customer.company,
    title: `Quote: ${lineItems.map((l) => `${l.quantity}× ${l.name}`).join(', ')}`,
    message: request.comment,
    source: 'checkout',
    expectedValue: { amount, currency: 'EUR' },
  });
  const [known] = (await crm.duplicates.find(lead.id, { entities: ['contact'], minScore: 0.9 })).filter((c) => c.entity === 'contact');
  await crm.leads.qualify(lead.id);
  const { deal, contact } = await crm.leads.convert(lead.id, {
    ownerId: managerId,
    ...(known ? { contactId: known.record.id } : {}),
    deal: { pipelineId: PIPELINE_ID, currency: 'EUR', lineItems },
  });
  await crm.activities.log({
    kind: 'call',
    direction: 'outbound',
    channel: 'phone',
    dealId: deal!.id,
    contactId: contact.id,
    outcome: 'Confirmed the cart and delivery address; quote to follow.',
    durationMinutes: 6,
  });
  return deal!;
}

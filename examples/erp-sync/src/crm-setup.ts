import { createCrm, isCrmError, type CrmWith } from '@crmkit/core';
import { events, type EventsFeature } from '@crmkit/core/feed';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import type { Pool } from 'pg';

/** The crm the ERP talks to: the core plus the change feed (`crm.events`). */
export type ErpCrm = CrmWith<[EventsFeature]>;

export const ERP = 'erp';
export const PIPELINE_ID = 'pl_orders';

/**
 * Opens the crm on the same PostgreSQL database as the ERP, in its own schema `crm`.
 *
 * @param pool The pool the ERP uses too; the crm leaves it open on close.
 * @returns The crm, with the sales pipeline created on first use.
 */
export async function openCrm(pool: Pool, actor = 'erp-sync'): Promise<ErpCrm> {
  const crm = await createCrm({ storage: createPostgresStorage({ pool, schema: 'crm' }), tenantId: 'acme-gmbh', actor: { userId: actor }, defaultCurrency: 'EUR', features: [events()] });
  try {
    await crm.pipelines.get(PIPELINE_ID);
  } catch (error) {
    if (!isCrmError(error, 'NOT_FOUND')) throw error;
    await crm.pipelines.create({
      id: PIPELINE_ID,
      name: 'Orders',
      stages: [
        { key: 'offer', name: 'Offer', probability: 40 },
        { key: 'ordered', name: 'Ordered', probability: 80 },
        { key: 'invoiced', name: 'Invoiced', probability: 95 },
      ],
    });
  }
  return crm;
}

/** The record's id in the ERP (`K-1001`, `A-2001`), when it has one. */
export function erpKey(record: { readonly externalRefs?: readonly { readonly system: string; readonly id: string }[] }): string | undefined {
  return record.externalRefs?.find((r) => r.system === ERP)?.id;
}

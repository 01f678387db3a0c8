import type { Pool } from 'pg';
import type { ErpCrm } from './crm-setup.js';
import { pullFromErp, type PullReport } from './pull-from-erp.js';
import { PUSH_EVENTS, pushToErp, type PushReport } from './push-to-erp.js';

/** The name of the durable feed consumer: its checkpoint lives in the crm's database. */
export const CONSUMER = 'erp-sync';

export interface SyncReport {
  /** crm → ERP. */
  readonly toErp: PushReport;
  /** ERP → crm. */
  readonly fromErp: PullReport;
  /** Feed events the consumer handled (its own writes' events included), and any it parked. */
  readonly handled: number;
  readonly parked: number;
}

/**
 * One run of the sync, both directions: first crm → ERP (the `erp-sync` consumer drains the feed
 * from its checkpoint: what sales changed since the last run), then ERP → crm (a pull of the ERP's
 * tables), then the consumer again for the events the pull itself made (they find nothing to send).
 * A field changed on both sides since the last run ends with the crm's value (it is pushed first
 * and the pull then finds the ERP agreeing). Safe to run again at any time: a second run finds both
 * sides in step and writes nothing.
 *
 * @param crm The crm (with `events()`).
 * @param pool The ERP's database.
 * @returns What changed on each side.
 */
export async function runSync(crm: ErpCrm, pool: Pool): Promise<SyncReport> {
  const toErp: PushReport = { customersCreated: 0, customersUpdated: 0, ordersCreated: 0 };
  const consumer = await crm.events.consume(CONSUMER, pushToErp(crm, pool, toErp), { types: [...PUSH_EVENTS], start: false, partitions: 4 });
  try {
    const before = await consumer.drain();
    const fromErp = await pullFromErp(crm, pool);
    const after = await consumer.drain();
    return { toErp, fromErp, handled: before.handled + after.handled, parked: before.parked + after.parked };
  } finally {
    await consumer.stop();
  }
}

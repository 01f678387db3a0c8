import type { CrmContext } from '../crm/context.js';
import { LEASE_RESERVE_MS } from './consumer-options.js';

const checked = new WeakSet<object>();

/**
 * Compares this process's clock with the database server's (where the adapter has one) once per
 * storage, and warns when they disagree by more than the smallest lease reserve: leases are written
 * with one process's clock and judged by the others with theirs, so such a skew lets a process take
 * a partition over while its holder is still inside a handler. Never throws.
 *
 * @returns The measured skew in ms (database minus process), or undefined when not measured.
 */
export async function checkClockSkew(ctx: CrmContext): Promise<number | undefined> {
  const storage = ctx.storage;
  if (!storage.databaseTime || checked.has(storage)) return undefined;
  checked.add(storage);
  try {
    const before = ctx.clock.now();
    const database = await storage.databaseTime();
    const after = ctx.clock.now();
    const skew = Math.round(database - (before + after) / 2);
    // The round trip bounds how well the two can be compared.
    if (Math.abs(skew) > LEASE_RESERVE_MS + (after - before) / 2) {
      ctx.logger.warn('crmkit: process and database clocks disagree (leases need them to agree)', { skewMs: skew, reserveMs: LEASE_RESERVE_MS });
    }
    return skew;
  } catch {
    return undefined; // a check only: the runner's own work reports storage trouble
  }
}

import { isCrmError } from '../errors/crm-error.js';
import type { CrmEvent } from '../events/event-map.js';
import type { Filter } from '../query/query-spec.js';
import type { CrmContext } from '../crm/context.js';
import { runWrite } from '../crm/operation.js';
import { shardsOf, type ConsumerRow } from './consumer-rows.js';

/**
 * Moves the checkpoints of consumers with a `holdMs` past their events older than it (up to `bound`),
 * counting them as `expired`, so that a consumer no process runs does not pin `crm.events.prune`
 * forever. A partition leased now is being worked on and keeps its checkpoint. Returns the lowest
 * checkpoint of `held` afterwards (at most `bound`): prune goes no further.
 */
export async function expireHeld(ctx: CrmContext, held: readonly ConsumerRow[], bound: number): Promise<number> {
  let lowest = bound;
  const expired = new Map<string, number>();
  for (const row of held) {
    if (row.position >= bound) continue;
    let position = row.position;
    try {
      position = await runWrite(ctx, async (op) => {
        const current = await op.get<ConsumerRow>('consumer', row.id);
        // Changed since it was read (a claim, a pass) or leased now: held as it is this time.
        if (!current || current.version !== row.version || !current.holdMs || (current.leaseUntil && current.leaseUntil > op.now)) return current?.position ?? row.position;
        const filters: Filter[] = [{ op: 'gt', field: 'position', value: current.position }];
        const shards = shardsOf(current.partition, current.partitions);
        if (shards) filters.push({ op: 'in', field: 'shard', values: shards });
        if (current.types) filters.push({ op: 'in', field: 'type', values: current.types });
        // Its first event young enough to be held: the checkpoint stops right below it.
        const young = new Date(op.nowMs - current.holdMs).toISOString();
        const { rows: first } = await op.query<CrmEvent>('event', { filter: { op: 'and', filters: [...filters, { op: 'lte', field: 'position', value: bound }, { op: 'gte', field: 'at', value: young }] }, sort: [{ field: 'position' }], limit: 1 });
        const through = first[0] ? first[0].position! - 1 : bound;
        if (through <= current.position) return current.position;
        const [counted] = await op.tx.aggregate('event', op.tenantId, { filter: { op: 'and', filters: [...filters, { op: 'lte', field: 'position', value: through }] }, metrics: { n: { fn: 'count' } } });
        const n = Number(counted?.values.n ?? 0);
        await op.update('consumer', current, { ...current, version: current.version + 1, updatedAt: op.now, position: through, expired: (current.expired ?? 0) + n });
        if (n) expired.set(current.name, (expired.get(current.name) ?? 0) + n);
        return through;
      });
    } catch (error) {
      // A claim at the same moment (PostgreSQL): held as it was.
      if (!isCrmError(error, 'CONFLICT')) throw error;
    }
    lowest = Math.min(lowest, position);
  }
  for (const [consumer, count] of expired) ctx.logger.warn('crmkit: events outlived the consumer\'s holdMs unhandled and expire', { consumer, expired: count });
  return lowest;
}

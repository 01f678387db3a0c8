import { isCrmError } from '../errors/crm-error.js';
import { toTimestamp } from '../domain/clock.js';
import type { CrmEvent } from '../events/event-map.js';
import type { CrmContext } from '../crm/context.js';
import { runWrite } from '../crm/operation.js';
import { afterCheckpoint, type ConsumerRow } from './consumer-rows.js';

/**
 * Moves the checkpoints of consumers with a `holdMs` past their events older than it (up to `bound`),
 * counting them as `expired`, so that a consumer no process runs does not pin `crm.events.prune`
 * forever. A partition leased now (being worked on) or changed since it was read keeps its
 * checkpoint. Returns the lowest checkpoint of `held` afterwards (at most `bound`; one not moved counts
 * with its `reach`, see partitionReach): prune goes no further.
 */
export async function expireHeld(ctx: CrmContext, held: readonly ConsumerRow[], bound: number, reach: (row: ConsumerRow) => number): Promise<number> {
  let lowest = bound;
  const expired: Record<string, number> = {};
  for (const row of held) {
    const moved =
      row.position < bound &&
      (await runWrite(ctx, async (op) => {
        const current = await op.get<ConsumerRow>('consumer', row.id);
        if (current?.version !== row.version || (row.leaseUntil ?? '') > op.now) return;
        const filters = afterCheckpoint(row);
        // Its first event young enough to be held: the checkpoint stops right below it.
        const { rows } = await op.query<CrmEvent>('event', { filter: { op: 'and', filters: [...filters, { op: 'lte', field: 'position', value: bound }, { op: 'gte', field: 'at', value: toTimestamp(op.nowMs - row.holdMs!) }] }, sort: [{ field: 'position' }], limit: 1 });
        const through = rows[0] ? rows[0].position! - 1 : bound;
        if (through <= row.position) return;
        const [counted] = await op.tx.aggregate('event', op.tenantId, { filter: { op: 'and', filters: [...filters, { op: 'lte', field: 'position', value: through }] }, metrics: { n: { fn: 'count' } } });
        const n = Number(counted?.values.n ?? 0);
        await op.update('consumer', row, { ...row, version: row.version + 1, updatedAt: op.now, position: through, expired: (row.expired ?? 0) + n });
        expired[row.name] = (expired[row.name] ?? 0) + n;
        return through;
      }).catch((error: unknown) => {
        // A claim at the same moment (PostgreSQL): held as it was.
        if (!isCrmError(error, 'CONFLICT')) throw error;
      }));
    lowest = Math.min(lowest, moved || reach(row));
  }
  for (const [consumer, count] of Object.entries(expired)) if (count) ctx.logger.warn('crmkit: events expired unhandled (older than holdMs)', { consumer, expired: count });
  return lowest;
}

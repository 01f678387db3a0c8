import type { CrmContext } from '@crmkit/core';
import type { Row } from '@crmkit/core/storage';
import { invalid } from '../protocol/errors.js';
import { HORIZON, writeSetting, type SyncChangeRow } from './sync-changes.js';

const CHUNK = 500;

/**
 * Deletes tombstones last written before `before`, `CHUNK` per transaction, raising the `syncHorizon`
 * setting to the highest position deleted (checkpoints below it pull a reset: they may miss a deletion).
 *
 * @throws CrmError `VALIDATION` at `before` when it is not an ISO timestamp.
 */
export async function prune(ctx: CrmContext, before: string): Promise<{ tombstones: number; horizon: number }> {
  if (typeof before !== 'string' || Number.isNaN(Date.parse(before))) throw invalid('sync.prune', [{ path: ['before'], code: 'invalid_format', message: 'must be an ISO timestamp' }]);
  const cut = new Date(before).toISOString();
  const tenant = ctx.tenantId;
  let tombstones = 0;
  for (;;) {
    const { count, horizon } = await ctx.storage.transaction('rw', async (tx) => {
      const page = await tx.query('syncChange', tenant, { filter: { op: 'and', filters: [{ op: 'eq', field: 'deleted', value: true }, { op: 'lt', field: 'updatedAt', value: cut }] }, sort: [{ field: 'updatedAt' }, { field: 'id' }], limit: CHUNK });
      const rows = page.rows as SyncChangeRow[];
      const [stored] = (await tx.getMany('setting', tenant, [HORIZON])) as ((Row & { value: number }) | undefined)[];
      const high = Math.max(stored?.value ?? 0, ...rows.map((r) => r.position));
      if (!rows.length) return { count: 0, horizon: high };
      await tx.write('syncChange', tenant, rows.map((r) => ({ type: 'delete' as const, id: r.id, expectedVersion: r.version })));
      const now = new Date(ctx.clock.now()).toISOString();
      await writeSetting(tx, tenant, stored, HORIZON, high, now);
      return { count: rows.length, horizon: high };
    });
    tombstones += count;
    if (count < CHUNK) return { tombstones, horizon };
  }
}

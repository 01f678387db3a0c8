import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import { dealRow, readAll, rejection, type Harness } from './harness.js';

const DAY_MS = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `databaseTime` (optional): the server's clock in epoch ms, read fresh on each call, answered while
 * the adapter's transactions run (the consumers' clock check runs beside their writes), `CLOSED` after
 * close. Adapters without it (every process shares the host's clock) skip these cases.
 */
export function databaseTimeTests(h: Harness): void {
  describe('database time (optional databaseTime)', () => {
    it('is epoch milliseconds: a finite number a Date turns into an ISO-8601 UTC instant near the host clock', async () => {
      const { adapter } = await h.open();
      if (!adapter.databaseTime) return;
      const before = Date.now();
      const ms = await adapter.databaseTime();
      expect(typeof ms).toBe('number');
      expect(Number.isFinite(ms)).toBe(true);
      expect(new Date(ms).toISOString()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      // Seconds or microseconds would be off by orders of magnitude; a test bed's server is not a day off.
      expect(Math.abs(ms - before)).toBeLessThan(DAY_MS);
    });

    it('is read fresh on each call: it moves forward, never back', async () => {
      const { adapter } = await h.open();
      if (!adapter.databaseTime) return;
      const first = await adapter.databaseTime();
      let later = first;
      for (let i = 0; i < 200 && later === first; i++) {
        await sleep(5);
        later = await adapter.databaseTime();
        expect(later).toBeGreaterThanOrEqual(first);
      }
      expect(later).toBeGreaterThan(first);
    });

    it('answers while a write transaction of the adapter is open, without joining it', async () => {
      const { adapter } = await h.open();
      if (!adapter.databaseTime) return;
      const outside = await adapter.databaseTime();
      const inside = await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('a') }]);
        return adapter.databaseTime!();
      });
      expect(inside).toBeGreaterThanOrEqual(outside);
      expect((await readAll(adapter, 'deal')).map((r) => r.id)).toEqual(['a']);
      expect(await adapter.databaseTime()).toBeGreaterThanOrEqual(inside);
    });

    it('rejects with CLOSED after close', async () => {
      const { adapter } = await h.open();
      if (!adapter.databaseTime) return;
      await adapter.close();
      expect(isCrmError(await rejection(adapter.databaseTime()), 'CLOSED')).toBe(true);
    });
  });
}

import { afterEach, describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { forkChild, type Child } from './support/child-process.js';
import { tempDir } from './support/temp-dir.js';

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A database file with one pipeline and one deal, made through the full stack. */
async function seededFile(): Promise<{ file: string; dealId: string }> {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const file = tmp.file('shared.db');
  const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'race', logger: silentLogger });
  await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }] });
  const deal = await crm.deals.create({ title: 'Contested', value: { amount: 100, currency: 'EUR' } });
  await crm.close();
  return { file, dealId: deal.id };
}

async function children(n: number, file: string, busyTimeoutMs?: number): Promise<Child[]> {
  const out = await Promise.all(Array.from({ length: n }, () => forkChild('test/support/race-child.ts')));
  for (const c of out) cleanups.push(() => c.kill());
  await Promise.all(out.map((c) => c.request({ cmd: 'open', file, tenantId: 'race', ...(busyTimeoutMs ? { busyTimeoutMs } : {}) })));
  return out;
}

describe('sqlite across processes', () => {
  it('two processes moving the same deal with the same version: exactly one wins, the other gets CONFLICT', async () => {
    const { file, dealId } = await seededFile();
    const [a, b] = await children(2, file);
    for (let round = 0; round < 5; round++) {
      const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'race', logger: silentLogger });
      const before = await crm.deals.get(dealId);
      const results = await Promise.all([
        a!.request<{ outcome: string; error?: string }>({ cmd: 'update', id: dealId, version: before.version, title: `A${round}` }),
        b!.request<{ outcome: string; error?: string }>({ cmd: 'update', id: dealId, version: before.version, title: `B${round}` }),
      ]);
      const outcomes = results.map((r) => r.outcome).sort();
      expect(outcomes, JSON.stringify(results)).toEqual(['conflict', 'won']);
      const after = await crm.deals.get(dealId);
      const winner = results[0]!.outcome === 'won' ? `A${round}` : `B${round}`;
      expect(after).toMatchObject({ title: winner, version: before.version + 1 });
      await crm.close();
    }
  });

  it('loses no update when two processes increment the same row with read-then-write races', async () => {
    const { file, dealId } = await seededFile();
    const [a, b] = await children(2, file);
    const times = 40;
    const results = await Promise.all([a!, b!].map((c) => c.request<{ done: number; conflicts: number; errors: string[] }>({ cmd: 'increment', id: dealId, times })));
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const storage = createSqliteStorage({ filename: file });
    cleanups.push(() => storage.close());
    const crm = await createCrm({ storage, tenantId: 'race', logger: silentLogger, closeStorage: false });
    const deal = await crm.deals.get(dealId);
    expect(deal.postponeCount).toBe(2 * times);
    expect(deal.version).toBe(1 + 2 * times);
  });

  it('waits out another process holding the write lock: SQLITE_BUSY never reaches the caller', async () => {
    const { file, dealId } = await seededFile();
    const [holder, writer] = await children(2, file);
    const hold = holder!.request<{ writes: number }>({ cmd: 'hold', ms: 1500, id: dealId });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const result = await writer!.request<{ done: number; errors: string[] }>({ cmd: 'increment', id: dealId, times: 3 });
    const waited = Date.now() - started;
    expect(result.errors).toEqual([]);
    expect(result.done).toBe(3);
    expect((await hold).writes).toBeGreaterThan(0);
    expect(waited).toBeGreaterThan(500); // it really had to wait for the lock
  });

  it('reports a lock held longer than busyTimeoutMs as retryable STORAGE, never as SQLITE_BUSY', async () => {
    const { file, dealId } = await seededFile();
    const [holder] = await children(1, file);
    const [writer] = await children(1, file, 300);
    const hold = holder!.request({ cmd: 'hold', ms: 2000, id: dealId });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const result = await writer!.request<{ done: number; errors: string[] }>({ cmd: 'update', id: dealId, version: 1, title: 'late' });
    await hold;
    expect(result).toMatchObject({ outcome: 'error' });
    const error = (result as unknown as { error: string }).error;
    expect(error).toMatch(/^CrmError:STORAGE:.*"retryable":true/);
    expect(error).not.toMatch(/SQLITE_BUSY/);
  });
});

import { createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { describe, expect, it } from 'vitest';
import type { PullResponse } from '../../src/protocol/messages.js';
import { device, post, pullAll, serverOf } from './support.js';

const encoder = new TextEncoder();
const size = (page: PullResponse) => page.rows.reduce((n, r) => n + encoder.encode(JSON.stringify(r)).byteLength, 0);

/** `inner` counting the records (not `syncChange` rows) its transactions read by id. */
function countingReads(inner: StorageAdapter) {
  const counts = { records: 0 };
  const storage = new Proxy(inner, {
    get(target, key, receiver) {
      if (key !== 'transaction') return Reflect.get(target, key, receiver) as unknown;
      return (mode: never, fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(new Proxy(tx, {
        get(t, k, r) {
          if (k !== 'getMany') return Reflect.get(t, k, r) as unknown;
          return (entity: string, tenant: string, ids: readonly string[]) => {
            if (entity === 'activity') counts.records += ids.length;
            return t.getMany(entity, tenant, ids);
          };
        },
      })));
    },
  });
  return { storage, counts };
}

/** review13 R14: a pull page is bounded by bytes as well as rows. */
describe('pull: pageBytes', () => {
  it('pages of big rows stay under pageBytes; an oversized row arrives alone; every row arrives once', async () => {
    const { crm, server } = await serverOf(() => createMemoryStorage(), { server: { limits: { pageBytes: 20_000 } } });
    const notes = [];
    for (let i = 0; i < 12; i++) notes.push((await crm.activities.log({ kind: 'note', body: `${i} ${'x'.repeat(4_000)}` })).id);
    const huge = (await crm.activities.log({ kind: 'note', body: 'y'.repeat(19_990) })).id;
    notes.push(huge, (await crm.activities.log({ kind: 'note', body: 'after' })).id);
    const pages = await pullAll(server, device(81), null, 'anna', 500);
    expect(pages.length).toBeGreaterThan(3);
    for (const page of pages) if (page.rows.length > 1) expect(size(page)).toBeLessThanOrEqual(20_000);
    const hugePage = pages.find((p) => p.rows.some((r) => r.row.id === huge))!;
    expect(hugePage.rows).toHaveLength(1);
    const got = pages.flatMap((p) => p.rows.filter((r) => r.entity === 'activity').map((r) => r.row.id));
    expect(got).toEqual(notes);
    expect(pages.at(-1)).toMatchObject({ hasMore: false, resetDone: true });
  });

  it('the default (1 MiB) still sends small rows 500 to a page', async () => {
    const { crm, server } = await serverOf(() => createMemoryStorage());
    for (let i = 0; i < 520; i++) await crm.activities.log({ kind: 'note', body: `n${i}` });
    const pages = await pullAll(server, device(82), null, 'anna', 500);
    expect(pages.map((p) => p.rows.length)).toEqual([500, pages[1]!.rows.length]);
  });

  it('counts UTF-8 bytes: a page of Cyrillic and CJK notes stays under pageBytes (review13b notes)', async () => {
    const { crm, server } = await serverOf(() => createMemoryStorage(), { server: { limits: { pageBytes: 20_000 } } });
    for (let i = 0; i < 12; i++) await crm.activities.log({ kind: 'note', body: `${i} ${(i % 2 ? 'я' : '見').repeat(3_000)}` });
    const pages = await pullAll(server, device(83), null, 'anna', 500);
    for (const page of pages) if (page.rows.length > 1) expect(size(page)).toBeLessThanOrEqual(20_000);
    expect(pages.flatMap((p) => p.rows.filter((r) => r.entity === 'activity'))).toHaveLength(12);
  });

  it('reads the records of about one page of bytes, not every change the page could hold', async () => {
    const { storage, counts } = countingReads(createMemoryStorage());
    const { crm, server } = await serverOf(() => storage, { storage, server: { limits: { pageBytes: 20_000 } } });
    for (let i = 0; i < 400; i++) await crm.activities.log({ kind: 'note', body: `${i} ${'x'.repeat(1_000)}` });
    counts.records = 0;
    const { body: first } = await post<PullResponse>(server, 'pull', device(84).pull(null, { limit: 500 }));
    expect(first.hasMore).toBe(true);
    expect(first.rows.length).toBeLessThan(30);
    expect(counts.records).toBeLessThanOrEqual(120); // one chunk of 100 changes, not the 400 the page could hold
  });
});

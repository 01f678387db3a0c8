import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import type { PullResponse } from '../../src/protocol/messages.js';
import { device, pullAll, serverOf } from './support.js';

const size = (page: PullResponse) => page.rows.reduce((n, r) => n + JSON.stringify(r).length, 0);

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
});

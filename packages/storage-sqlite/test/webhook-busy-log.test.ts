import { expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createCrm, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { tempDir } from './support/temp-dir.js';

/**
 * An endpoint answers 2xx while another process holds SQLite's write lock longer than `busyTimeoutMs`:
 * the attempt's log write is retried (a retryable STORAGE error), so the delivery is logged once and
 * never POSTed again.
 */
it('a 2xx whose log write meets a busy SQLite database is logged once and not POSTed again', { timeout: 60_000 }, async () => {
  const tmp = tempDir();
  const file = tmp.file('crm.db');
  const posts: string[] = [];
  let lockOnce = true;
  let released: Promise<void> = Promise.resolve();
  const fetch: WebhookFetch = async (_url, init) => {
    posts.push(init.headers['webhook-id']!);
    if (lockOnce) {
      lockOnce = false;
      const other = new Database(file); // another process writing
      other.exec('BEGIN IMMEDIATE');
      released = new Promise((resolve) =>
        setTimeout(() => {
          other.exec('COMMIT');
          other.close();
          resolve();
        }, 400),
      );
    }
    return { status: 204, text: async () => '' };
  };
  const crm = await createCrm({ storage: createSqliteStorage({ filename: file, busyTimeoutMs: 100 }), tenantId: 't', logger: silentLogger, features: [events(), webhooks({ fetch, backoff: { initialMs: 100, multiplier: 1, maxMs: 100 } })] });
  try {
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h', types: ['contact.created'] });
    await crm.contacts.create({ name: 'Ada' });
    await crm.webhooks.drain();
    await released;
    await crm.webhooks.drain();
    expect(posts).toHaveLength(1);
    const log = await crm.webhooks.deliveries(endpoint.id);
    expect(log.items.map((i) => [i.status, i.attempt])).toEqual([['succeeded', 1]]);
    const status = await crm.webhooks.status(endpoint.id);
    expect([status.lag, status.pending, status.parked]).toEqual([0, 0, 0]);
  } finally {
    await crm.close();
    tmp.cleanup();
  }
});

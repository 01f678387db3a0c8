import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, type SyncTransport } from '../../src/index.js';
import { serverOf } from '../server/support.js';
import { deviceCrm } from '../client/support.js';

/** review13: docs/sync.md — the client syncs "every `pollMs` (30 s) without a live signal". */
describe('review13: polling while the live stream is connected', () => {
  it('a device with an open SSE stream does not also pull every 30 s', async () => {
    const srv = await serverOf(() => createMemoryStorage());
    const dev = await deviceCrm({ user: 'anna', seed: 91 });
    const inner = inProcessTransport(srv.server, { headers: () => ({ 'x-user': 'anna' }) });
    let pulls = 0;
    const transport: SyncTransport = {
      push: (b, s) => inner.push(b, s),
      pull: (b, s) => (pulls++, inner.pull(b, s)),
      // A stream that connected and stays open (no pokes: nothing changes on the server).
      listen: (_onPoke, signal, onMode) => new Promise<void>((resolve) => {
        onMode?.('sse');
        signal.addEventListener('abort', () => resolve());
      }),
    };
    const client = await createSyncClient({ crm: dev.crm, transport });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    };
    dev.clock.advance(0);
    await settle();
    expect(client.status().live).toBe('sse');
    const afterStart = pulls;
    for (let i = 0; i < 10; i++) {
      dev.clock.advance(30_000);
      await settle();
    }
    await client.stop();
    expect(pulls - afterStart).toBe(0); // 5 minutes connected, nothing changed: no pull
  });
});

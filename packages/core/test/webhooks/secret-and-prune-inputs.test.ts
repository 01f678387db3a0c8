import { describe, expect, it } from 'vitest';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

/** Review 12f #5: secrets compare by key bytes; pruneDeliveries takes the feed's timestamp verdicts. */
describe('webhook secret and prune inputs', () => {
  it('a secret spelt without its base64 padding is the same key: refused as the current one, never signing twice', async () => {
    const signatures: string[] = [];
    const fetch: WebhookFetch = async (_url, init) => (signatures.push(init.headers['webhook-signature']!), { status: 204, text: async () => '' });
    const { crm } = await createTestCrm({ features: [events(), webhooks({ fetch })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
    const first = await crm.webhooks.secret(endpoint.id);
    expect(first).toMatch(/=$/); // 32 bytes: base64 ends in one padding character
    const unpadded = first.replace(/=+$/, '');
    const error = await expectCrmError(crm.webhooks.rotateSecret(endpoint.id, { secret: unpadded }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['secret']);
    expect(await crm.webhooks.secret(endpoint.id)).toBe(first);
    // Rotate away and back to the same key spelt differently: the previous entry of that key goes.
    await crm.webhooks.rotateSecret(endpoint.id, { keepPreviousForMs: 86_400_000 });
    await crm.webhooks.rotateSecret(endpoint.id, { secret: unpadded, keepPreviousForMs: 86_400_000 });
    await crm.contacts.create({ name: 'A' });
    await crm.webhooks.drain();
    const sent = signatures[0]!.split(' ');
    expect(sent).toHaveLength(2);
    expect(new Set(sent).size).toBe(2);
    await crm.close();
  });

  it('pruneDeliveries refuses impossible and future timestamps (path before, nothing deleted) and takes offsets', async () => {
    const fetch: WebhookFetch = async () => ({ status: 204, text: async () => '' });
    const { crm, clock } = await createTestCrm({ features: [events(), webhooks({ fetch })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
    await crm.contacts.create({ name: 'A' });
    await crm.webhooks.drain();
    clock.advance(60_000);
    const future = new Date(clock.now() + 1).toISOString();
    for (const before of ['2026-02-30T00:00:00.000Z', '2026-03-01T24:00:00.000Z', '2026-13-01T00:00:00.000Z', future, '2999-01-01T00:00:00.000Z']) {
      const error = await expectCrmError(crm.webhooks.pruneDeliveries({ before }), 'VALIDATION');
      expect(issuePaths(error)).toEqual(['before']);
    }
    // The same verdicts as crm.events.prune's `before` for the malformed ones.
    for (const before of ['2026-02-30T00:00:00.000Z', '2026-03-01T24:00:00.000Z']) await expectCrmError(crm.events.prune({ through: 0, before }), 'VALIDATION');
    expect((await crm.webhooks.deliveries(endpoint.id)).items).toHaveLength(1);
    // An offset form of now is the same instant.
    expect(await crm.webhooks.pruneDeliveries({ before: new Date(clock.now()).toISOString().replace('Z', '+00:00') })).toEqual({ deleted: 1 });
    expect((await crm.webhooks.deliveries(endpoint.id)).items).toHaveLength(0);
    await crm.close();
  });
});

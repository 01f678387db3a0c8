import { describe, expect, it } from 'vitest';
import { events } from '@crmkit/core/feed';
import { webhooks, type WebhookFetch } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

describe('webhook secret rotation limits', () => {
  it('only the 3 newest previous secrets keep signing, however many rotations; rotating to the current secret is refused', async () => {
    const signatures: string[] = [];
    const fetch: WebhookFetch = async (_url, init) => {
      signatures.push(init.headers['webhook-signature']!);
      return { status: 204, text: async () => '' };
    };
    const { crm } = await createTestCrm({ features: [events(), webhooks({ fetch })] });
    const endpoint = await crm.webhooks.create({ url: 'https://example.com/h' });
    const secrets = [await crm.webhooks.secret(endpoint.id)];
    for (let i = 0; i < 20; i++) secrets.push((await crm.webhooks.rotateSecret(endpoint.id, { keepPreviousForMs: 30 * 86_400_000 })).secret);
    await crm.contacts.create({ name: 'A' });
    await crm.webhooks.drain();
    expect(signatures).toHaveLength(1);
    expect(signatures[0]!.split(' ')).toHaveLength(4);
    // The current secret is refused, and nothing changes.
    const current = secrets[secrets.length - 1]!;
    const error = await expectCrmError(crm.webhooks.rotateSecret(endpoint.id, { secret: current }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['secret']);
    expect(await crm.webhooks.secret(endpoint.id)).toBe(current);
    await crm.contacts.create({ name: 'B' });
    await crm.webhooks.drain();
    expect(signatures[1]!.split(' ')).toHaveLength(4);
    // An earlier (retired) secret may come back: it is not the current one.
    expect((await crm.webhooks.rotateSecret(endpoint.id, { secret: secrets[0]! })).secret).toBe(secrets[0]);
    await crm.close();
  });
});

import { describe, expect, it } from 'vitest';
import { events } from '@crmkit/core/feed';
import { webhooks } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';

describe('webhook.disabled', () => {
  it('names the endpoint and its origin only: another endpoint’s secret path never reaches catch-all endpoints', async () => {
    const secretUrl = 'https://hooks.slack.com/services/T0001/B0001/SECRETTOKEN?key=abc';
    const bodies: { url: string; body: string }[] = [];
    const { crm } = await createTestCrm({
      features: [
        events(),
        webhooks({
          maxAttempts: 1,
          disableAfter: { failures: 1, ms: 0 },
          fetch: async (url, init) => {
            bodies.push({ url, body: init.body });
            // A client whose error message quotes the URL it called.
            if (url === secretUrl) throw new Error(`request to ${url} failed`);
            return { status: 204, text: async () => '' };
          },
        }),
      ],
    });
    await crm.webhooks.create({ url: 'https://partner.example.com/all' });
    const leaky = await crm.webhooks.create({ url: secretUrl, types: ['contact.created'] });
    await crm.contacts.create({ name: 'Ada' });
    await crm.webhooks.drain();
    await crm.webhooks.drain();
    const toPartner = bodies.filter((b) => b.url.startsWith('https://partner.'));
    const disabled = toPartner.map((b) => JSON.parse(b.body) as { type: string; data: Record<string, unknown> }).find((p) => p.type === 'webhook.disabled');
    expect(disabled?.data).toMatchObject({ endpointId: leaky.id, origin: 'https://hooks.slack.com', failures: 1 });
    expect(disabled?.data).not.toHaveProperty('url');
    expect(disabled?.data.reason).toContain('request to https://hooks.slack.com failed');
    for (const { body } of toPartner) expect(body).not.toContain('SECRETTOKEN');
    expect((await crm.webhooks.get(leaky.id)).status).toBe('disabled');
    await crm.close();
  });
});

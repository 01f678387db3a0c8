import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTestCrm } from '@crmkit/core/testing';
import { crmWithPipeline } from '../helpers.js';
import { startWebhookServer, type WebhookServer } from '../webhooks/webhook-server.js';

const servers: WebhookServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

describe('change feed: deal stage changes', () => {
  it('carries deal.stageChanged with its from and to stages, in the feed and to a consumer', async () => {
    const { crm, pipelineId } = await crmWithPipeline();
    const deal = await crm.deals.create({ title: 'Chairs', pipelineId, currency: 'EUR' });
    await crm.deals.advance(deal.id);
    const page = await crm.events.read({ types: ['deal.stageChanged'] });
    expect(page.events).toHaveLength(1);
    expect(page.events[0]).toMatchObject({ type: 'deal.stageChanged', subjectId: deal.id, data: { from: 'new', to: 'proposal', direction: 'forward' } });
    expect(page.events[0]!.position).toBeGreaterThan(0);
    const seen: unknown[] = [];
    const consumer = await crm.events.consume('stages', (event) => void seen.push(event.data), { start: false, partitions: 1, types: ['deal.stageChanged'] });
    await consumer.drain();
    // The move applies the stage's probability: its event carries that change (fieldChanged rules on probability see it).
    expect(seen).toEqual([{ from: 'new', to: 'proposal', direction: 'forward', changes: { probability: { from: 10, to: 60 } } }]);
  });

  it('sends deal.stageChanged with { from, to } in a signed webhook payload', async () => {
    const server = await startWebhookServer();
    servers.push(server);
    const { crm } = await createTestCrm({ now: Date.now() });
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }] });
    const { secret } = await crm.webhooks.create({ url: server.url, types: ['deal.stageChanged'] });
    const deal = await crm.deals.create({ title: 'Chairs', pipelineId: pipeline.id, currency: 'EUR' });
    await crm.deals.advance(deal.id);
    await crm.webhooks.drain();
    expect(server.received).toHaveLength(1);
    const request = server.received[0]!;
    const payload = new Webhook(secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id']!,
      'webhook-timestamp': request.headers['webhook-timestamp']!,
      'webhook-signature': request.headers['webhook-signature']!,
    });
    expect(payload).toMatchObject({ type: 'deal.stageChanged', data: { from: 'new', to: 'proposal' }, event: { subjectId: deal.id } });
  });
});

import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { scopedServer } from './scope-support.js';
import { device, post } from './support.js';

/** review13 R14: a pushed create carrying a taken id gets one verdict, whoever holds the id. */
describe('push: a create with a taken id', () => {
  it('answers the id of a hidden record exactly as the id of a readable one, naming neither holder nor version', async () => {
    const { server, crm, pipeline } = await scopedServer(() => createMemoryStorage());
    const hidden = await crm.deals.create({ title: 'Ben only', pipelineId: pipeline.id, ownerId: 'ben' });
    const own = await crm.deals.create({ title: 'Anna', pipelineId: pipeline.id, ownerId: 'anna' });
    await crm.deals.update(own.id, { title: 'Anna 2' });
    const anna = device(71);
    const verdict = async (id: string) => {
      const answer = await post(server, 'push', anna.push([anna.command('deals.create', [{ id, title: 'Mine', pipelineId: pipeline.id }])]));
      expect(answer.status).toBe(200);
      const result = answer.body.results[0] as { status: string; error?: { message: string } };
      return { ...result, seq: 0, error: JSON.parse(JSON.stringify(result.error).replaceAll(id, '<id>')) as unknown };
    };
    const ofHidden = await verdict(hidden.id);
    const ofReadable = await verdict(own.id);
    expect(ofHidden).toEqual(ofReadable);
    expect(ofHidden).toMatchObject({ status: 'rejected', error: { code: 'VALIDATION', details: { issues: [{ path: ['args', 0, 'id'], code: 'id_unavailable' }] } } });
    expect(JSON.stringify(ofHidden)).not.toMatch(/<id>|Version":\d/);
    expect((await crm.deals.get(hidden.id)).title).toBe('Ben only');
  });
});

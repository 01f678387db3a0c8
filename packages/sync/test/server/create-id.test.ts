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

  it('the same for an id the command derives from (at, seed): a crafted seed hitting a hidden stage visit tells nothing', async () => {
    const { server, crm, storage, pipeline } = await scopedServer(() => createMemoryStorage());
    const visitOf = async (dealId: string) => {
      const { rows } = await storage.transaction('r', (tx) => tx.query('stageVisit', 'acme', {}));
      return rows.find((r) => r.dealId === dealId)!.id;
    };
    const hidden = await visitOf((await crm.deals.create({ title: 'Ben only', pipelineId: pipeline.id, ownerId: 'ben' })).id);
    const own = await visitOf((await crm.deals.create({ title: 'Anna', pipelineId: pipeline.id, ownerId: 'anna' })).id);
    const anna = device(72);
    /** A create whose first derived id is `id`: `at` is the id's time part, `seed` its random part. */
    const verdict = async (id: string) => {
      const body = id.slice(id.indexOf('_') + 1);
      const at = [...body.slice(0, 10)].reduce((n, c) => n * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c), 0);
      const command = { ...anna.command('deals.create', [{ id: anna.id('deal'), title: 'Mine', pipelineId: pipeline.id }]), at, seed: body.slice(10) };
      const answer = await post(server, 'push', anna.push([command]));
      return { ...answer.body.results[0]!, seq: 0 };
    };
    const ofHidden = await verdict(hidden);
    expect(ofHidden).toEqual(await verdict(own));
    expect(ofHidden).toMatchObject({ status: 'rejected', error: { code: 'VALIDATION', details: { issues: [{ path: ['seed'], code: 'id_unavailable' }] } } });
    expect(JSON.stringify(ofHidden)).not.toContain(hidden);
  });
});

import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import type { PullResponse } from '../../src/protocol/messages.js';
import { scopedServer } from '../server/scope-support.js';
import { device, post, pullAll } from '../server/support.js';

/** review13: the scope fingerprint should change when the scope does, not when the host lists the same roles in another order. */
describe('review13: the same roles in another order', () => {
  it('do not start a reset (a host reading roles from a set or an unordered query would re-download the whole scope on every pull)', async () => {
    const { crm, server, pipeline } = await scopedServer(() => createMemoryStorage());
    await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna' });
    const anna = device(31);
    const pages = await pullAll(server, anna, null, 'anna');
    const checkpoint = pages.at(-1)!.checkpoint;
    const first = await post<PullResponse>(server, 'pull', anna.pull(checkpoint), 'anna', { 'x-roles': 'rep,lead' });
    const again = await post<PullResponse>(server, 'pull', anna.pull(first.body.checkpoint), 'anna', { 'x-roles': 'lead,rep' });
    expect(again.body.reset).toBeUndefined();
  });

  it('a directory change that does not touch Anna (a new hire in another team) does not reset her device', async () => {
    const { crm, server, pipeline } = await scopedServer(() => createMemoryStorage());
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }] } as never);
    await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna' });
    const anna = device(32);
    const checkpoint = (await pullAll(server, anna, null, 'anna')).at(-1)!.checkpoint;
    await crm.access.setDirectory({ teams: [{ id: 'north' }, { id: 'south' }], users: [{ id: 'anna', teamIds: ['north'] }, { id: 'zed', teamIds: ['south'] }] } as never);
    const next = await post<PullResponse>(server, 'pull', anna.pull(checkpoint), 'anna');
    expect(next.body.reset).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d D6: "see all deals, change your own" — the most common CRM policy. Online, `crm.as(anna)` refuses her
 * edit of Ben's deal with `FORBIDDEN` at once. On her device the same call runs, is shown as done (the result and the
 * board carry the new title) and is recorded; only the server's push answer takes it back. The device runs its
 * services without the user's grants (docs/sync.md: "its rules judge them: a refusal throws and records nothing").
 */
async function setup() {
  const o = await office({});
  await o.crm.access.setPolicy({
    roles: { rep: { grants: { deal: { read: 'all', create: 'own', update: 'own', delete: 'own' }, pipeline: { read: 'all' }, customField: { read: 'all' } } } },
    defaultRoles: ['rep'],
  });
  const bens = await o.crm.deals.create({ title: 'Bens', pipelineId: o.sales.id, ownerId: 'ben' });
  return { o, bens };
}

describe('review13d D6: the device judges the user\'s write grants like crm.as', () => {
  it('online: FORBIDDEN at once', async () => {
    const { o, bens } = await setup();
    await expect(o.crm.as({ userId: 'anna' }).deals.update(bens.id, { title: 'Mine now' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('offline: the same call is refused at once and records nothing', async () => {
    const { o, bens } = await setup();
    const anna = await device(o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    const verdict = await anna.client.crm.deals.update(bens.id, { title: 'Mine now' }).then(() => 'recorded', (e: { code: string }) => e.code);
    expect({ verdict, pending: anna.client.status().pending, title: (await anna.client.crm.deals.get(bens.id)).title }).toEqual({ verdict: 'FORBIDDEN', pending: 0, title: 'Bens' });
  });
});

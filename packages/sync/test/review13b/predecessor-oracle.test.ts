import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { scopedServer } from '../server/scope-support.js';
import { device, post } from '../server/support.js';

/**
 * review13b B7 (security): R3's `predecessorRejected` answers a command whose `after` names a rejected command with
 * `CONFLICT { id, expectedVersion, actualVersion }`, reading the record with no access check. A device (a few lines
 * of fetch, any signed-in rep) pushes a refused command and then any id it likes with `after` → the answer tells
 * whether a record it may not read exists and how many times it was changed. Core conceals exactly this
 * (`concealConflict`: "a hidden record's id or version would tell that it exists and how often it changed").
 */
describe('review13b: the predecessor check on a record outside the scope', () => {
  it('tells nothing about the hidden record (same answer as for an id that does not exist)', async () => {
    const { crm, server, pipeline } = await scopedServer(() => createMemoryStorage());
    const secret = await crm.deals.create({ title: 'Secret merger', pipelineId: pipeline.id, ownerId: 'ben' });
    await crm.deals.update(secret.id, { title: 'Secret merger (v2)' });
    await crm.deals.advance(secret.id);
    const dev = device(137);
    const mine = await crm.deals.create({ title: 'Mine', pipelineId: pipeline.id, ownerId: 'anna' });
    const refused = dev.command('deals.reopen', [mine.id, { version: 99 }]); // rejected: CONFLICT (wrong version)
    const probe = (id: string) => ({ ...dev.command('deals.win', [id, { version: 1 }]), after: [refused.seq] });
    const hidden = probe(secret.id);
    const missing = probe('deal_00000000000000000000000000000000');
    const { body } = await post(server, 'push', dev.push([refused, hidden, missing]), 'anna');
    const [, a, b] = body.results as unknown as { error?: { code: string; details: Record<string, unknown> } }[];
    expect(body.results[0]).toMatchObject({ status: 'rejected' });
    // The hidden deal's answer must not differ from a missing id's, nor carry its version.
    expect(JSON.stringify(a?.error)).not.toContain(`"actualVersion":${secret.version + 2}`);
    expect({ code: a?.error?.code, actualVersion: a?.error?.details.actualVersion }).toEqual({ code: b?.error?.code, actualVersion: b?.error?.details.actualVersion });
  });
});

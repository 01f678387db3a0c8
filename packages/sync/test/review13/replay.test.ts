import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { device, post, serverOf } from '../server/support.js';

/** review13: "each command is applied exactly once even when a push is retried" — a retry must be the same command. */
describe('review13: a seq already applied, pushed again with another command', () => {
  it('is not answered "applied" while nothing of it was applied (a device restored from a backup, a cloned app profile)', async () => {
    const { crm, server, pipeline } = await serverOf(() => createMemoryStorage());
    const anna = device(1);
    const first = anna.command('deals.create', [{ id: anna.id('deal'), title: 'First', pipelineId: pipeline.id }]);
    expect((await post(server, 'push', anna.push([first]))).body.results).toEqual([{ seq: 1, status: 'applied' }]);
    // The same client id and seq, another command (the device's log was restored from a backup taken before seq 1).
    const other = { ...first, args: [{ id: anna.id('deal'), title: 'Second', pipelineId: pipeline.id }], seed: 'A0000000000B' };
    const answer = await post(server, 'push', anna.push([other]));
    const titles = (await crm.deals.list()).items.map((d) => d.title).sort();
    // Either the server refuses the mismatch, or it must not claim it applied a command it never ran.
    if (answer.status === 200 && answer.body.results[0]?.status === 'applied') expect(titles).toEqual(['First', 'Second']);
    else expect(answer.status).not.toBe(200);
  });
});

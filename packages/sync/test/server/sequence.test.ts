import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { device, post, serverOf } from './support.js';

const issue = (body: { details: { issues: { path: (string | number)[]; code: string }[] } }) => body.details.issues[0];

/** review13 R4, R11: a seq names one command (a retry must be that command); a renewed client id starts at `since`. */
describe('push: seqs and their commands', () => {
  const setup = async () => {
    const s = await serverOf(() => createMemoryStorage());
    const anna = device(61);
    const create = (title: string) => anna.command('deals.create', [{ id: anna.id('deal'), title, pipelineId: s.pipeline.id }]);
    const titles = async () => (await s.crm.deals.list()).items.map((d) => d.title).sort();
    return { ...s, anna, create, titles };
  };

  it('an exact retry is answered with the recorded verdicts; another command under an applied seq is a 409 sequence_reused, nothing runs', async () => {
    const { server, anna, create, titles } = await setup();
    const batch = [create('A'), create('B')];
    expect((await post(server, 'push', anna.push(batch))).status).toBe(200);
    const retry = await post(server, 'push', anna.push(batch));
    expect(retry.body.results).toEqual([{ seq: 1, status: 'applied' }, { seq: 2, status: 'applied' }]);
    const other = { ...create('C'), seq: 2 };
    const answer = await post(server, 'push', anna.push([batch[0]!, other]));
    expect(answer.status).toBe(409);
    expect(issue(answer.body)).toMatchObject({ path: ['commands', 1, 'seq'], code: 'sequence_reused', seq: 2 });
    expect(await titles()).toEqual(['A', 'B']);
  });

  it('a seq older than the digests kept (100) is never a retry: 409 sequence_reused', async () => {
    const { server, anna, create } = await setup();
    const first = Array.from({ length: 100 }, (_, i) => create(`D${i}`));
    expect((await post(server, 'push', anna.push(first))).status).toBe(200);
    expect((await post(server, 'push', anna.push([create('late')]))).status).toBe(200);
    const answer = await post(server, 'push', anna.push([first[0]!]));
    expect([answer.status, issue(answer.body)?.code]).toEqual([409, 'sequence_reused']);
    expect((await post(server, 'push', anna.push([first[1]!]))).body.results).toEqual([{ seq: 2, status: 'applied' }]);
  });

  it('a client the server has no row of starts at since; a gap below it names since; a seq below it is refused', async () => {
    const { server, anna, create, titles } = await setup();
    const commands = Array.from({ length: 6 }, (_, i) => create(`T${i}`));
    const gap = await post(server, 'push', anna.push([commands[5]!], { since: 5 }));
    expect([gap.status, issue(gap.body)?.code, (issue(gap.body) as { expected?: number }).expected]).toEqual([409, 'sequence_gap', 5]);
    expect((await post(server, 'push', anna.push([commands[4]!, commands[5]!], { since: 5 }))).body.results.map((r) => r.seq)).toEqual([5, 6]);
    const below = await post(server, 'push', anna.push([commands[2]!], { since: 1 }));
    expect([below.status, issue(below.body)?.code]).toEqual([409, 'sequence_reused']);
    expect(await titles()).toEqual(['T4', 'T5']);
  });
});

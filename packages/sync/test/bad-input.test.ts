import { describe, expect, it } from 'vitest';
import type { StorageAdapter } from '@crmkit/core';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { encodeCheckpoint } from '../src/protocol/checkpoint.js';
import type { Command } from '../src/protocol/messages.js';
import { scopedServer } from './server/scope-support.js';
import { ADAPTERS, device, post, pullAll, serverOf } from './server/support.js';

/** Every stored row of the tenant, as JSON: two equal dumps prove nothing was applied. */
async function dump(storage: StorageAdapter): Promise<string> {
  return storage.transaction('r', async (tx) => {
    const all: Record<string, unknown> = {};
    for (const entity of CRM_STORAGE_SCHEMA.entities) all[entity.name] = (await tx.query(entity.name, 'acme', { sort: [{ field: 'id' }] })).rows;
    return JSON.stringify(all);
  });
}

const issues = (body: { details: { issues: { path: (string | number)[]; code: string }[] } }) => body.details.issues.map((i) => `${i.path.join('.')}:${i.code}`);

for (const [adapter, makeStorage] of ADAPTERS) {
  describe(`sync server bad input (design sync.md §12, test 5) on ${adapter}`, () => {
    it('malformed bodies and limits: typed VALIDATION with the right status and path; nothing applied', async () => {
      const { server, storage } = await serverOf(makeStorage, { server: { limits: { bodyBytes: 64 * 1024 } } });
      const anna = device(11);
      await post(server, 'push', anna.push([anna.command('contacts.create', [{ id: anna.id('ctc'), name: 'Ada' }])]));
      const before = await dump(storage);
      const c = (name: string, args: unknown[], extra: object = {}) => ({ seq: 2, name, args, at: 1, seed: '000000000000', ...extra }) as unknown as Command;
      const cases: [string, unknown, number, string[]][] = [
        ['not JSON', '{"protocol":1,', 400, [':invalid_json']],
        ['an array', '[]', 400, [':invalid_type']],
        ['unknown field', { ...anna.push([c('deals.win', ['d'])]), extra: 1 }, 400, ['extra:unknown_field']],
        ['unknown command', anna.push([c('pipelines.create', [{}])]), 400, ['commands.0.name:invalid_value']],
        ['merges are not pushable', anna.push([c('contacts.merge', ['a', ['b']])]), 400, ['commands.0.name:invalid_value']],
        ['wrong arity', anna.push([c('deals.advance', [])]), 400, ['commands.0.args:too_small']],
        ['too many args', anna.push([c('deals.update', ['d', {}, {}])]), 400, ['commands.0.args:too_big']],
        ['bad id shape', anna.push([c('deals.win', ['no spaces'])]), 400, ['commands.0.args.0:invalid_format']],
        ['seq 0', anna.push([c('deals.win', ['d'], { seq: 0 })]), 400, ['commands.0.seq:too_small']],
        ['seq not an integer', anna.push([c('deals.win', ['d'], { seq: 2.5 })]), 400, ['commands.0.seq:invalid_type']],
        ['seqs not consecutive', anna.push([c('deals.win', ['d']), c('deals.win', ['d'], { seq: 4 })]), 400, ['commands.1.seq:sequence_order']],
        ['bad seed', anna.push([c('deals.win', ['d'], { seed: 'zzzzzzzzzzzz' })]), 400, ['commands.0.seed:invalid_format']],
        ['bad client id', { ...anna.push([c('deals.win', ['d'])]), clientId: 'cli_1' }, 400, ['clientId:invalid_format']],
        ['no commands', anna.push([]), 400, ['commands:too_small']],
        ['101 commands', anna.push(Array.from({ length: 101 }, (_, i) => c('deals.win', ['d'], { seq: 2 + i }))), 413, ['commands:too_big']],
        ['a body over the limit', anna.push([c('deals.update', ['d', { title: 'x'.repeat(70 * 1024) }])]), 413, [':too_big']],
        ['a gap', anna.push([c('deals.win', ['d'], { seq: 3 })]), 409, ['commands.0.seq:sequence_gap']],
      ];
      for (const [label, body, status, expected] of cases) {
        const answer = await post(server, 'push', body);
        expect([label, answer.status, answer.body.code, issues(answer.body)]).toEqual([label, status, 'VALIDATION', expected]);
      }
      const pulls: [string, unknown, number, string[]][] = [
        ['limit 5000', anna.pull(null, { limit: 5000 }), 413, ['limit:too_big']],
        ['limit 0', anna.pull(null, { limit: 0 }), 400, ['limit:too_small']],
        ['garbage checkpoint', anna.pull('garbage!'), 400, ['checkpoint:invalid_checkpoint']],
        ['checkpoint of another tenant', anna.pull(encodeCheckpoint({ v: 1, t: 'other', p: 0, s: 'x' })), 400, ['checkpoint:foreign_checkpoint']],
        ['checkpoint ahead of the head', anna.pull(encodeCheckpoint({ v: 1, t: 'acme', p: 10_000, s: 'x' })), 400, ['checkpoint:checkpoint_ahead']],
        ['a long checkpoint', anna.pull('a'.repeat(600)), 400, ['checkpoint:too_big']],
      ];
      for (const [label, body, status, expected] of pulls) {
        const answer = await post(server, 'pull', body);
        expect([label, answer.status, answer.body.code, issues(answer.body)]).toEqual([label, status, 'VALIDATION', expected]);
      }
      // A streamed body without content-length is cut at the limit too.
      const stream = new ReadableStream({ start: (ctl) => { for (let i = 0; i < 80; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(1024))); ctl.close(); } });
      const streamed = await server.handle(new Request('http://sync.test/sync/push', { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'anna' }, body: stream, duplex: 'half' } as RequestInit));
      expect(streamed.status).toBe(413);
      // HTTP-level refusals.
      const wrongType = await server.handle(new Request('http://sync.test/sync/push', { method: 'POST', headers: { 'content-type': 'text/plain', 'x-user': 'anna' }, body: '{}' }));
      expect([wrongType.status, ((await wrongType.json()) as { code: string }).code]).toEqual([415, 'VALIDATION']);
      const wrongMethod = await server.handle(new Request('http://sync.test/sync/push', { headers: { 'x-user': 'anna' } }));
      expect(wrongMethod.status).toBe(405);
      const unknown = await server.handle(new Request('http://sync.test/sync/other', { headers: { 'x-user': 'anna' } }));
      expect([unknown.status, ((await unknown.json()) as { code: string }).code]).toEqual([404, 'NOT_FOUND']);
      const anonymous = await post(server, 'push', anna.push([c('deals.win', ['d'])]), '');
      expect([anonymous.status, anonymous.body.code, anonymous.body.details]).toEqual([401, 'FORBIDDEN', { action: 'sync.push', reason: 'unauthenticated' }]);
      const stolen = await post(server, 'push', anna.push([c('deals.win', ['d'])]), 'ben');
      expect([stolen.status, stolen.body.details]).toEqual([403, { action: 'sync.push', reason: 'client_owner' }]);
      const peek = await post(server, 'pull', anna.pull(null), 'ben');
      expect([peek.status, peek.body.details]).toEqual([403, { action: 'sync.pull', reason: 'client_owner' }]);
      expect(await dump(storage)).toBe(before);
    });

    it('create ids that are not the client format are rejected VALIDATION client_id_format; no record is written', async () => {
      const { server, crm, pipeline } = await serverOf(makeStorage);
      const anna = device(12);
      const good = anna.id('deal');
      const commands = [
        anna.command('deals.create', [{ title: 'No id', pipelineId: pipeline.id }]),
        anna.command('deals.create', [{ id: good.toLowerCase(), title: 'Lower case', pipelineId: pipeline.id }]),
        anna.command('deals.create', [{ id: good.replace('deal_', 'ctc_'), title: 'Foreign prefix', pipelineId: pipeline.id }]),
        anna.command('deals.create', [{ id: 'deal-1', title: 'Host style', pipelineId: pipeline.id }]),
        anna.command('deals.create', [{ id: good, title: 'Good', pipelineId: pipeline.id }]),
        anna.command('deals.create', [{ id: good, title: 'Taken', pipelineId: pipeline.id }]),
      ];
      const { body } = await post(server, 'push', anna.push(commands));
      expect(body.results.map((r) => (r.status === 'rejected' ? `${r.error.code}:${(r.error.details as { issues?: { code: string }[] }).issues?.[0]?.code ?? ''}` : r.status))).toEqual([
        'VALIDATION:client_id_format', 'VALIDATION:client_id_format', 'VALIDATION:client_id_format', 'VALIDATION:client_id_format', 'applied', 'VALIDATION:id_unavailable',
      ]);
      expect(body.lastSeq).toBe(6);
      expect((await crm.deals.list()).items.map((d) => d.title)).toEqual(['Good']);
    });

    it('commands outside the principal\'s scope are rejected (NOT_FOUND outside its read scope, FORBIDDEN outside the action\'s); nothing applied', async () => {
      const { server, crm, storage, pipeline } = await scopedServer(makeStorage);
      const bens = await crm.deals.create({ title: 'Ben\'s', pipelineId: pipeline.id, ownerId: 'ben' });
      const anna = device(13);
      const before = await dump(storage);
      const { body } = await post(server, 'push', anna.push([
        anna.command('deals.advance', [bens.id]),
        anna.command('deals.update', [bens.id, { title: 'Mine now' }]),
        anna.command('deals.create', [{ id: anna.id('deal'), title: 'For Ben', pipelineId: pipeline.id, ownerId: 'ben' }]),
      ]));
      expect(body.results.map((r) => (r.status === 'rejected' ? r.error.code : r.status))).toEqual(['NOT_FOUND', 'NOT_FOUND', 'FORBIDDEN']);
      expect(JSON.stringify(body)).not.toContain('Ben\'s');
      const after = JSON.parse(await dump(storage)) as Record<string, { id: string }[]>;
      const was = JSON.parse(before) as Record<string, { id: string }[]>;
      // Only anna's client row (lastSeq 3, the rejections) is new.
      expect(Object.keys(after).filter((e) => JSON.stringify(after[e]) !== JSON.stringify(was[e]))).toEqual(['syncClient']);
      // A forged fingerprint still yields only readable rows (the server resets and judges every row).
      const pages = await pullAll(server, anna, encodeCheckpoint({ v: 1, t: 'acme', p: 0, s: 'forged' }));
      expect(pages[0]!.reset).toBe('begin');
      expect(JSON.stringify(pages.map((p) => p.rows))).not.toContain(bens.id);
      expect(pages.flatMap((p) => p.gone)).toEqual([]);
    });
  });
}

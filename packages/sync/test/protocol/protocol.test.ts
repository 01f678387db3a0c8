import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError, createSeededRandom } from '@crmkit/core';
import { COMMANDS, COMMAND_NAMES, createIdIssues, decodeCheckpoint, encodeCheckpoint, exitTag, isSynced, newClientId, newSeed, parseWith, pushRequestSchema, CLIENT_ID_PATTERN, SEED_PATTERN } from '../../src/protocol/index.js';

const issues = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (isCrmError(error, 'VALIDATION')) return error.details.issues.map((i) => `${i.path.join('.')}:${i.code}`);
    throw error;
  }
  throw new Error('expected VALIDATION');
};

describe('sync protocol', () => {
  it('checkpoints round-trip; garbage, other shapes and other tenants are refused with VALIDATION at checkpoint', () => {
    fc.assert(fc.property(fc.string(), fc.nat(), fc.string({ maxLength: 16 }), fc.boolean(), (t, p, s, r) => {
      const checkpoint = { v: 1 as const, t, p, s, ...(r ? { r: 1 as const, h: p + 1 } : {}) };
      expect(decodeCheckpoint(encodeCheckpoint(checkpoint), t)).toEqual(checkpoint);
    }));
    const good = encodeCheckpoint({ v: 1, t: 'acme', p: 3, s: 'x' });
    expect(issues(() => decodeCheckpoint(good, 'other'))).toEqual(['checkpoint:foreign_checkpoint']);
    for (const bad of ['', '!!!', 'e30', encodeCheckpoint({ v: 2, t: 'acme', p: 3, s: 'x' } as never), encodeCheckpoint({ v: 1, t: 'acme', p: -1, s: 'x' }), encodeCheckpoint({ v: 1, t: 'acme', p: 1, s: 'x', extra: 1 } as never)]) {
      expect(issues(() => decodeCheckpoint(bad, 'acme'))).toEqual(['checkpoint:invalid_checkpoint']);
    }
  });

  it('exit tags: 16 base64url characters, one per (tenant, entity, id)', async () => {
    const a = await exitTag('acme', 'deal', 'deal_1');
    expect(a).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await exitTag('acme', 'deal', 'deal_1')).toBe(a);
    expect(new Set([a, await exitTag('acme', 'deal', 'deal_2'), await exitTag('beta', 'deal', 'deal_1'), await exitTag('acme', 'task', 'deal_1')]).size).toBe(4);
  });

  it('the registry: 26 commands, creates and versioned moves marked; args checked for arity and id shape', () => {
    expect(COMMAND_NAMES.length).toBe(26);
    expect(COMMAND_NAMES.filter((n) => COMMANDS[n].creates)).toEqual(['deals.create', 'leads.create', 'contacts.create', 'companies.create', 'tasks.create', 'activities.log']);
    expect(COMMANDS['deals.lose'].versioned).toBe('deal');
    expect(COMMANDS['deals.update'].versioned).toBeUndefined();
    expect(issues(() => parseWith(COMMANDS['deals.advance'].args, [], 'x', ['args']))).toEqual(['args:too_small']);
    expect(issues(() => parseWith(COMMANDS['deals.advance'].args, ['a b'], 'x', ['args']))).toEqual(['args.0:invalid_format']);
    expect(issues(() => parseWith(COMMANDS['leads.create'].args, [{}, { assignWith: 'x' }], 'x', ['args']))).toEqual(['args:too_big']);
    expect(parseWith(COMMANDS['deals.advance'].args, ['deal_1'], 'x')).toEqual(['deal_1']);
    expect(createIdIssues(COMMANDS['deals.create'], [{ id: 'deal_01JD4Y3M5K000000000001' }])).toEqual([]);
    for (const id of [undefined, 'deal-1', 'deal_01jd4y3m5k000000000001', 'ctc_01JD4Y3M5K000000000001']) {
      expect(createIdIssues(COMMANDS['deals.create'], [{ id }]).map((i) => `${i.path.join('.')}:${i.code}`)).toEqual(['args.0.id:client_id_format']);
    }
  });

  it('push requests: strict shape, unknown commands and fields named at their path', () => {
    const push = { protocol: 1, clientId: newClientId(createSeededRandom(1)), commands: [{ seq: 1, name: 'deals.win', args: ['d'], at: 1, seed: newSeed(createSeededRandom(2)) }] };
    expect(CLIENT_ID_PATTERN.test(push.clientId) && SEED_PATTERN.test(push.commands[0]!.seed)).toBe(true);
    expect(parseWith(pushRequestSchema, push, 'sync.push')).toEqual(push);
    expect(issues(() => parseWith(pushRequestSchema, { ...push, commands: [{ ...push.commands[0], name: 'pipelines.create', seq: 0, extra: 1 }] }, 'sync.push'))).toEqual(['commands.0.seq:too_small', 'commands.0.name:invalid_value', 'commands.0.extra:unknown_field']);
  });

  it('synced records: the listed entities and settings, never access settings', () => {
    expect([isSynced('deal', 'd'), isSynced('setting', 'calendar'), isSynced('setting', 'accessPolicy'), isSynced('event', 'e'), isSynced('syncChange', 'x')]).toEqual([true, true, false, false, false]);
  });
});

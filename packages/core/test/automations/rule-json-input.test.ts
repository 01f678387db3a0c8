import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

// Review 18 #7 (and the byte count of #8): non-JSON rule input is a VALIDATION error, not a TypeError.
const base = { name: 'x', trigger: { type: 'event', event: 'deal.created' } } as const;
const circular = (() => {
  const d: Record<string, unknown> = {};
  d.self = d;
  return d;
})();
const CASES: Record<string, { data: unknown; path: (string | number)[] }> = {
  bigint: { data: { n: 1n }, path: ['actions', 0, 'data', 'n'] },
  circular: { data: circular, path: ['actions', 0, 'data', 'self'] },
  nan: { data: { n: Number.NaN }, path: ['actions', 0, 'data', 'n'] },
  infinity: { data: { list: [1, Number.POSITIVE_INFINITY] }, path: ['actions', 0, 'data', 'list', 1] },
  fn: { data: { f: () => 1 }, path: ['actions', 0, 'data', 'f'] },
  symbol: { data: { s: Symbol('x') }, path: ['actions', 0, 'data', 's'] },
  date: { data: { d: new Date(0) }, path: ['actions', 0, 'data', 'd'] },
};

async function verdict(promise: Promise<unknown>): Promise<{ code: string; paths: unknown[] }> {
  try {
    await promise;
  } catch (error) {
    if (!isCrmError(error)) throw error;
    return { code: error.code, paths: ((error.details as { issues?: { path: unknown }[] }).issues ?? []).map((i) => i.path) };
  }
  return { code: 'ACCEPTED', paths: [] };
}

describe('rule input that JSON cannot hold', () => {
  for (const [name, { data, path }] of Object.entries(CASES)) {
    it(`define and simulate refuse ${name} with VALIDATION and store nothing`, async () => {
      const { crm } = await createTestCrm();
      const rule = { ...base, actions: [{ type: 'emit', name: 'a', data }] } as never;
      expect(await verdict(crm.automations.define(rule))).toEqual({ code: 'VALIDATION', paths: [path] });
      expect(await crm.automations.list()).toEqual([]);
      const event = { id: 'e1', type: 'deal.created', subjectType: 'deal', subjectId: 'd1', data: {} } as never;
      expect((await verdict(crm.automations.simulate(rule, event))).code).toBe('VALIDATION');
    });
  }

  it('counts the size limit in UTF-8 bytes, not UTF-16 units', async () => {
    const { crm } = await createTestCrm();
    // 5,000 emoji: 10,000 UTF-16 units but 20,000 bytes, over the 16,384-byte limit.
    const big = { ...base, actions: [{ type: 'emit', name: 'a', data: { s: '😀'.repeat(5000) } }] } as never;
    expect((await verdict(crm.automations.define(big))).code).toBe('VALIDATION');
    const ok = { ...base, actions: [{ type: 'emit', name: 'a', data: { s: 'a'.repeat(10_000), d: '2026-01-01T00:00:00.000Z' } }] } as never;
    expect((await crm.automations.define(ok)).actions).toHaveLength(1);
  });
});

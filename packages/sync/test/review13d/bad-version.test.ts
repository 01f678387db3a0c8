import { describe, expect, it } from 'vitest';
import { office } from './harness.js';

/**
 * review13d D4 (minor, bad input): `ownVersion` (push.ts) swaps any number `from ≤ version < stored` for the
 * stored version before the service parses it, so a pushed `version` that core refuses (0, 2.5: core wants a whole
 * number ≥ 1) is applied on a record only this client wrote. Online the same call is a `VALIDATION` at `version`.
 */
const client = 'cli_0000000000000000000000';
const deal = 'deal_0000000000000000000001';
async function push(server: { handle(r: Request): Promise<Response> }, commands: unknown[]) {
  const response = await server.handle(new Request('http://x/sync/push', { method: 'POST', headers: { authorization: 'Bearer token-anna', 'content-type': 'application/json' }, body: JSON.stringify({ protocol: 1, clientId: client, commands }) }));
  return (await response.json()) as { results: { seq: number; status: string; error?: { code: string } }[] };
}

describe('review13d D4: a pushed version core refuses is not swapped for the stored one', () => {
  for (const version of [0, 1.5]) {
    it(`deals.postpone with version ${version}`, async () => {
      const o = await office();
      const at = o.clock.now();
      const created = await push(o.server, [
        { seq: 1, name: 'deals.create', args: [{ id: deal, title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna' }], at, seed: '0000000000A1' },
        { seq: 2, name: 'deals.update', args: [deal, { title: 'Acme 2' }], at, seed: '0000000000A2' },
      ]);
      expect(created.results.map((r) => r.status)).toEqual(['applied', 'applied']);
      const online = await o.crm.as({ userId: 'anna' }).deals.postpone(deal, { until: '2026-01-20T00:00:00.000Z', version } as never).then(() => 'applied', (e: { code: string }) => e.code);
      expect(online).toBe('VALIDATION');
      const pushed = await push(o.server, [{ seq: 3, name: 'deals.postpone', args: [deal, { until: '2026-01-21T00:00:00.000Z', version }], at, seed: '0000000000A3' }]);
      expect(pushed.results.map((r) => r.error?.code ?? r.status)).toEqual(['VALIDATION']);
    });
  }
});

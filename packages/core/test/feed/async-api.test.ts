import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { methodsOf as allMethodsOf } from '../crm/api-sweep.js';

/** Methods documented as synchronous: `start()` returns nothing (it throws CLOSED), `causedBy` returns a crm. */
const SYNC = new Set(['start', 'causedBy', 'constructor']);

/** Arguments no method accepts as they are: each call must end in a rejected (or resolved) promise. */
const BAD_ARGS: unknown[][] = [[], ['x'], [{}], [null, null], [7, 'x', 9]];

/** The shared sweep's methods, less the synchronous ones. */
const methodsOf = (api: object): string[] => allMethodsOf(api).filter((name) => !SYNC.has(name));

/**
 * Calls every method with each bad argument list: none may throw synchronously; each returns a promise
 * that resolves or rejects with a CrmError (bad input is VALIDATION before and after close).
 */
async function probe(label: string, api: object, open: boolean): Promise<string[]> {
  const problems: string[] = [];
  // The scheduler's internals are #private: what JavaScript can call is its public API.
  for (const name of methodsOf(api)) {
    for (const args of BAD_ARGS) {
      let result: unknown;
      try {
        result = (api as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
      } catch (error) {
        problems.push(`${label}.${name}(${args.map((a) => JSON.stringify(a)).join(', ')}) threw synchronously: ${String(error)}`);
        continue;
      }
      if (!(result instanceof Promise)) {
        problems.push(`${label}.${name} returned ${typeof result}, not a promise`);
        continue;
      }
      const error = await result.then(() => undefined, (e: unknown) => e);
      if (error !== undefined && !isCrmError(error)) problems.push(`${label}.${name} rejected with a non-CrmError${open ? '' : ' after close'}: ${String(error)}`);
    }
  }
  return problems;
}

describe('events, consumers, webhooks, automations and the scheduler: every async method rejects, never throws (review12i #5)', () => {
  it('on the crm and in a view, before and after crm.close()', async () => {
    const { crm } = await createTestCrm();
    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, setting: { update: 'all' } } } }, defaultRoles: ['rep'] });
    const view = crm.as({ userId: 'u1' });
    const consumer = await crm.events.consume('probe', () => undefined, { start: false });
    const viewConsumer = await view.events.consume('probe', () => undefined, { start: false });
    const apis = { 'events': crm.events, 'consumer': consumer, 'webhooks': crm.webhooks, 'automations': crm.automations, 'scheduler': crm.scheduler, 'view.events': view.events, 'view.consumer': viewConsumer, 'view.webhooks': view.webhooks, 'view.automations': view.automations, 'view.scheduler': view.scheduler };
    const problems: string[] = [];
    for (const [label, api] of Object.entries(apis)) problems.push(...(await probe(label, api, true)));
    await crm.close();
    for (const [label, api] of Object.entries(apis)) problems.push(...(await probe(label, api, false)));
    expect(problems).toEqual([]);
    // Valid calls after close are refused with CLOSED; the two the review found as a caller writes them.
    const closed = [consumer.drain(), crm.webhooks.drain(), viewConsumer.status(), crm.events.read(), crm.events.status('probe'), crm.webhooks.list(), crm.automations.drain(), crm.automations.tick(), crm.scheduler.tick()];
    for (const call of closed) await expect(call).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(crm.webhooks.drain().catch((e: { code: string }) => e.code)).resolves.toBe('CLOSED');
  });
});

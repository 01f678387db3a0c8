import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { apisOf, methodsOf } from './api-sweep.js';

/** Public API objects of a crm with every feature, by path, and their methods (the shared sweep's). */
const apis = (crm: object): [string, object, string[]][] => apisOf(crm).map(([path, api]) => [path, api, methodsOf(api)]);

// Review 16g: crm.merges.run({...}) said "Invalid input to merges.[object Object]s": an internal method, reachable
// from JavaScript, built its method name from its argument.
describe('error messages name the public method, never an argument', () => {
  it('merges and pipelines expose no internal method that skips the public checks', async () => {
    const { crm } = await createTestCrm();
    expect('run' in crm.merges).toBe(false);
    expect('edit' in crm.pipelines).toBe(false);
    const error = await crm.merges.contacts({ bad: 1 } as never, [{}] as never).then(() => undefined, (e: unknown) => e);
    expect(isCrmError(error, 'VALIDATION')).toBe(true);
    expect((error as Error).message).toMatch(/^Invalid input to merges\.contacts: survivorId/);
    for (const [method, entity] of [['contacts', 'contact'], ['companies', 'company'], ['leads', 'lead']] as const) {
      const e = await crm.merges[method]('x1', ['x1']).then(() => undefined, (err: unknown) => err as Error);
      expect(e?.message, entity).toContain(`merges.${method}:`);
      const via = await crm[method].merge('x1', []).then(() => undefined, (err: unknown) => err as Error);
      expect(via?.message, entity).toContain(`merges.${method}:`);
    }
  });

  it('no method of any API of a crm with every feature puts "[object Object]" into its message', async () => {
    const { crm } = await createTestCrm();
    const garbled: string[] = [];
    const settle = (value: unknown) => Promise.race([Promise.resolve(value).then(() => undefined, (e: unknown) => e), new Promise((resolve) => setTimeout(resolve, 500, undefined))]);
    for (const [path, api, methods] of apis(crm)) {
      for (const method of methods) {
        // Background loops (start/stop/drain) take no input worth checking and would keep running.
        if (['start', 'stop', 'drain', 'tick'].includes(method)) continue;
        for (const args of [[{ x: { y: 1 } }, { z: 1 }, { w: 1 }], [['a'], { a: 1 }]]) {
          let error: unknown;
          try {
            error = await settle((api as Record<string, (...a: unknown[]) => unknown>)[method]!(...args));
          } catch (e) {
            error = e;
          }
          const message = error instanceof Error ? error.message : '';
          if (message.includes('[object Object]')) garbled.push(`${path}.${method}: ${message.slice(0, 160)}`);
        }
      }
    }
    expect(garbled).toEqual([]);
  }, 60_000);
});

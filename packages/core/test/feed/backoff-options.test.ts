import { describe, expect, it } from 'vitest';
import { webhooks } from '@crmkit/core/webhooks';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

describe('backoff options', () => {
  it('refuses a first delay above the cap also when one of them is the default (webhooks and consumers)', async () => {
    const { crm } = await createTestCrm();
    for (const [backoff, path] of [[{ initialMs: 9000, maxMs: 1000 }, 'backoff.maxMs'], [{ maxMs: 1000 }, 'backoff.maxMs'], [{ initialMs: 40_000_000 }, 'backoff.initialMs']] as const) {
      const error = await expectCrmError(Promise.resolve().then(() => webhooks({ backoff })), 'VALIDATION');
      expect(issuePaths(error)).toContain(path);
    }
    for (const [backoff, path] of [[{ maxMs: 500 }, 'backoff.maxMs'], [{ initialMs: 7_200_000 }, 'backoff.initialMs']] as const) {
      const error = await expectCrmError(crm.events.consume('b', () => undefined, { start: false, backoff }), 'VALIDATION');
      expect(issuePaths(error)).toContain(path);
    }
    expect(await crm.events.consumers()).toEqual([]); // nothing was written
    // Values within the defaults pass.
    expect(() => webhooks({ backoff: { maxMs: 5000 } })).not.toThrow();
    await crm.events.consume('ok', () => undefined, { start: false, backoff: { initialMs: 3_600_000 } });
    expect(await crm.events.consumers()).toHaveLength(1);
    await crm.close();
  });
});

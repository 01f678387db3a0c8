import { describe, expect, it } from 'vitest';
import { CrmError, createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import { device, post, serverOf } from './support.js';

/** Memory storage whose writes of `failing.entity` fail with a retryable STORAGE error while `failing.on`. */
function flakyStorage(failing: { on: boolean; entity: string }): StorageAdapter {
  const inner = createMemoryStorage();
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key !== 'transaction') return Reflect.get(target, key, receiver) as unknown;
      return (mode: 'r' | 'rw', fn: (tx: unknown) => Promise<unknown>) => target.transaction(mode, (tx) => fn(new Proxy(tx, {
        get(t, k, r) {
          if (k !== 'write') return Reflect.get(t, k, r) as unknown;
          return (entity: string, tenantId: string, ops: never) => {
            if (failing.on && entity === failing.entity) return Promise.reject(new CrmError('STORAGE', 'disk full', { adapter: 'memory', retryable: true }));
            return t.write(entity, tenantId, ops);
          };
        },
      })));
    },
  });
}

describe('sync push: storage failures and filled arguments', () => {
  it('a storage failure stops the batch at that command: earlier verdicts answered, nothing of it applied, the retry applies it once', async () => {
    const failing = { on: false, entity: 'company' };
    const storage = flakyStorage(failing);
    const { server, crm } = await serverOf(() => storage, { storage });
    const anna = device(31);
    const commands = [
      anna.command('contacts.create', [{ id: anna.id('ctc'), name: 'Ada' }]),
      anna.command('companies.create', [{ id: anna.id('co'), name: 'Acme' }]),
      anna.command('contacts.create', [{ id: anna.id('ctc'), name: 'Ben' }]),
    ];
    failing.on = true;
    const stopped = await post(server, 'push', anna.push(commands));
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ lastSeq: 1, results: [{ seq: 1, status: 'applied' }], stopped: { seq: 2, error: { code: 'STORAGE', details: { retryable: true } } } });
    expect((await crm.contacts.list()).items.map((c) => c.name)).toEqual(['Ada']);
    failing.on = false;
    const retried = await post(server, 'push', anna.push(commands));
    expect(retried.body).toEqual({ protocol: 1, lastSeq: 3, results: [1, 2, 3].map((seq) => ({ seq, status: 'applied' })) });
    expect((await crm.contacts.list()).items.map((c) => c.name).sort()).toEqual(['Ada', 'Ben']);
    expect((await crm.companies.list()).items).toHaveLength(1);
  });

  it('activities.log without occurredAt is dated at the command\'s device time', async () => {
    const { server, crm } = await serverOf(() => createMemoryStorage());
    const anna = device(32);
    const id = anna.id('act');
    await post(server, 'push', anna.push([anna.command('activities.log', [{ id, kind: 'call', direction: 'outbound' }], Date.parse('2026-01-04T17:30:00.000Z'))]));
    expect((await crm.activities.get(id)).occurredAt).toBe('2026-01-04T17:30:00.000Z');
  });
});

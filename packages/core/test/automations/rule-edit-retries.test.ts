import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, CrmError, isCrmError, silentLogger, type StorageAdapter } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';

// Review 18h #1: define / update / enable / disable run again when they meet a concurrent writer (a
// deadlock, a busy database, a run that got to a waiting run first); the caller's own stale version is final.

/** A memory storage whose next read-write transactions first run `before` (another writer, a failure). */
function interceptable() {
  const storage = createMemoryStorage();
  const queue: (() => Promise<void>)[] = [];
  let writes = 0;
  const proxy = new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key === 'transaction') {
        return async (mode: 'r' | 'rw', fn: (tx: never) => Promise<unknown>) => {
          if (mode === 'rw') {
            writes++;
            await queue.shift()?.();
          }
          return target.transaction(mode, fn as never);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as StorageAdapter;
  return { storage, proxy, before: (...fns: (() => Promise<void>)[]) => queue.push(...fns), writes: () => writes };
}

const deadlock = () => Promise.reject(new CrmError('STORAGE', 'deadlock detected (40P01)', { adapter: 'test', retryable: true, operation: 'write' }));
const rule = { name: 'Tag', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'addTag' as const, tag: 'new' }] };

async function setup() {
  const { storage, proxy, before, writes } = interceptable();
  const open = (s: StorageAdapter) => createCrm({ storage: s, tenantId: 't', logger: silentLogger, features: [events(), automations()] });
  const crm = await open(proxy);
  const other = await open(storage);
  return { crm, other, before, writes };
}

describe('rule edits and concurrent writers', () => {
  it('define, update, enable and disable run again after a retryable storage failure', async () => {
    const { crm, before } = await setup();
    before(deadlock);
    const defined = await crm.automations.define(rule);
    before(deadlock, deadlock);
    expect((await crm.automations.disable(defined.id)).enabled).toBe(false);
    before(deadlock);
    expect((await crm.automations.enable(defined.id)).enabled).toBe(true);
    before(deadlock);
    expect((await crm.automations.update(defined.id, { name: 'Tag new deals' })).name).toBe('Tag new deals');
    expect((await crm.automations.get(defined.id)).version).toBe(4);
  });

  it('update without a version applies the patch to the rule as another edit left it', async () => {
    const { crm, other, before } = await setup();
    const defined = await crm.automations.define(rule);
    // Between update's read and its write, another process edits the rule: the edit read is stale.
    before(async () => void (await other.automations.update(defined.id, { description: 'edited elsewhere' })));
    const updated = await crm.automations.update(defined.id, { name: 'Renamed' });
    expect([updated.name, updated.description, updated.version]).toEqual(['Renamed', 'edited elsewhere', 3]);
  });

  it("a stale version of the caller's is CONFLICT at once, not retried", async () => {
    const { crm, other, writes } = await setup();
    const defined = await crm.automations.define(rule);
    await other.automations.update(defined.id, { description: 'edited elsewhere' });
    const before = writes();
    const stale = await crm.automations.update(defined.id, { name: 'Renamed', version: 1 }).catch((e: unknown) => e);
    expect(isCrmError(stale, 'CONFLICT')).toBe(true);
    const again = await crm.automations.define({ ...defined, name: 'Renamed' }).catch((e: unknown) => e);
    expect(isCrmError(again, 'CONFLICT')).toBe(true);
    expect(writes() - before).toBe(2); // one transaction each
    expect((await crm.automations.get(defined.id)).name).toBe('Tag');
  });
});

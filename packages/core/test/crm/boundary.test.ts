import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, isCrmError, silentLogger } from '@crmkit/core';
import { scheduler } from '@crmkit/core/scheduler';
import { tasks } from '@crmkit/core/tasks';
import { createTestCrm } from '@crmkit/core/testing';
import { crmWithPipeline, expectCrmError, expectUnchanged, issuePaths } from '../helpers.js';

describe('every public input passes one validation at the boundary', () => {
  it('createCrm refuses unknown and invalid options instead of ignoring them', async () => {
    const storage = createMemoryStorage();
    const base = { storage, tenantId: 'acme', logger: silentLogger };
    const cases: [Record<string, unknown>, string[]][] = [
      [{ schedular: { batchSize: 10 } }, ['schedular']],
      [{ scheduler: { batchSize: 10 } }, ['scheduler']], // scheduler options belong to the feature
      [{ clock: { now: () => 0 } }, ['clock']],
      [{ random: { seed: Number.NaN } }, ['random']],
      [{ logger: console.log }, ['logger']],
      [{ closeStorage: 'no' }, ['closeStorage']],
      [{ phoneNumbers: {} }, ['phoneNumbers']],
      [{ actor: { userId: 'u1', role: 'admin' } }, ['actor.role']],
      [{ defaultCurrency: 'EURO' }, ['defaultCurrency']],
      [{ defaultCurrency: 'ABC' }, ['defaultCurrency']],
    ];
    for (const [extra, paths] of cases) {
      const error = await expectCrmError(createCrm({ ...base, ...extra } as never), 'VALIDATION');
      expect(issuePaths(error).sort(), JSON.stringify(Object.keys(extra))).toEqual(paths);
    }
    await expectCrmError(createCrm(null as never), 'VALIDATION');
    await expectCrmError(createCrm({ tenantId: 'acme' } as never), 'VALIDATION');
    const crm = await createCrm({ ...base, features: [tasks(), scheduler({ batchSize: 10, overdueAfterMinutes: 0 })] });
    await crm.close();
  });

  it('the scheduler feature refuses unknown and invalid options (a zero batch size would never progress)', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ batchSize: 0 }, ['batchSize']],
      [{ batchSize: 1.5, overdueAfterMinutes: -1, maxSleep: 5 }, ['batchSize', 'maxSleep', 'overdueAfterMinutes']],
    ];
    for (const [options, paths] of cases) {
      let error: unknown;
      try {
        scheduler(options as never);
      } catch (e) {
        error = e;
      }
      expect(isCrmError(error, 'VALIDATION') && issuePaths(error).sort()).toEqual(paths);
    }
    expect(() => scheduler(null as never)).toThrow(/Invalid input to scheduler/);
  });

  it('imports.deals with null (or any non-object) options is VALIDATION, not a TypeError, and writes nothing', async () => {
    const t = await crmWithPipeline();
    const before = t.storage.snapshot();
    for (const options of [null, 5, 'x', [], { progressEvery: 0 }, { onProgress: 'log' }, { unknown: 1 }]) {
      const error = await expectCrmError(t.crm.imports.deals([{ title: 'x' }], options as never), 'VALIDATION');
      expect(issuePaths(error)[0]).toMatch(/^options/);
    }
    expectUnchanged(t, before);
    expect(await t.crm.imports.deals([{ title: 'ok' }], { onProgress: () => undefined, progressEvery: 1 })).toHaveLength(1);
  });

  it('imports.deals refuses what every other call refuses: class instances and unstorable text in rows', async () => {
    const t = await crmWithPipeline();
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.imports.deals([{ title: 'ok' }, { title: 'bad\ud800' }, { title: new Date() as never }]), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['1.title', '2.title']);
    expectUnchanged(t, before);
  });

  it('a required custom field keyed like an Object.prototype member (toString) is enforced', async () => {
    const t = await crmWithPipeline();
    for (const key of ['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf']) {
      await t.crm.customFields.define({ entity: 'deal', key, label: key, type: 'text', required: true });
    }
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.deals.create({ title: 'x' }), 'VALIDATION');
    expect(issuePaths(error).sort()).toEqual(['custom.hasOwnProperty', 'custom.isPrototypeOf', 'custom.toString', 'custom.valueOf']);
    expectUnchanged(t, before);
    const deal = await t.crm.deals.create({ title: 'x', custom: { toString: 'a', valueOf: 'b', hasOwnProperty: 'c', isPrototypeOf: 'd' } });
    expect(deal.custom).toEqual({ toString: 'a', valueOf: 'b', hasOwnProperty: 'c', isPrototypeOf: 'd' });
    await expectCrmError(t.crm.deals.update(deal.id, { custom: { toString: null } as never }), 'VALIDATION');
  });

  it('a lone surrogate is refused with VALIDATION in values, filter values and cursors', async () => {
    const t = await createTestCrm();
    const before = t.storage.snapshot();
    expect(issuePaths(await expectCrmError(t.crm.contacts.create({ name: 'Ada \ud800' }), 'VALIDATION'))).toEqual(['name']);
    expect(issuePaths(await expectCrmError(t.crm.contacts.create({ name: 'Ada', custom: { ['k\udc00']: 1 } as never }), 'VALIDATION'))).toEqual(['custom.k\udc00']);
    expect(issuePaths(await expectCrmError(t.crm.contacts.list({ where: { op: 'eq', field: 'name', value: '\ud800' } }), 'VALIDATION'))).toEqual(['where.value']);
    const forged = btoa(JSON.stringify({ s: 'createdAt:desc', v: ['2026-01-01T00:00:00.000Z'], id: '\ud800' })).replace(/=+$/, '');
    expect(issuePaths(await expectCrmError(t.crm.contacts.list({ cursor: forged }), 'VALIDATION'))).toEqual(['cursor']);
    expectUnchanged(t, before);
  });

  it('deals.list refuses options that are not an object, like every other list', async () => {
    const { crm } = await crmWithPipeline();
    for (const options of [null, 5, 'x', []]) {
      await expectCrmError(crm.deals.list(options as never), 'VALIDATION');
      await expectCrmError(crm.contacts.list(options as never), 'VALIDATION');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, formatMoney, isCrmError } from '@crmkit/core';
import { createTestCrm, type TestCrm } from '@crmkit/core/testing';
import { automations } from '@crmkit/core/automations';
import { csvSource } from '@crmkit/core/csv';
import { describeEvent } from '@crmkit/core/describe';
import { toCsv } from '@crmkit/core/reports';
import { scheduler } from '@crmkit/core/scheduler';
import { signPayload, webhooks } from '@crmkit/core/webhooks';
import { apisOf, callOnce, describeError, methodsOf } from './api-sweep.js';

const boom = (): never => {
  throw new Error('a getter of the caller threw');
};
/** An object whose fields (the names inputs use most) throw when read. */
const throwingGetters = Object.defineProperties(
  {},
  Object.fromEntries(
    ['id', 'type', 'name', 'title', 'entity', 'rows', 'csv', 'mapping', 'mode', 'where', 'filter', 'from', 'to', 'ownerId', 'stages', 'key', 'kind', 'userId', 'after', 'limit', 'url', 'events', 'trigger', 'actions', 'subject', 'dueAt', 'version', 'start', 'weekdays', 'holidays', 'batchSize'].map((key) => [key, { get: boom, enumerable: true }]),
  ),
);
/** An object every read, key listing or prototype lookup of which throws. */
const throwingProxy = new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom });
const cyclic: Record<string, unknown> = { name: 'x' };
cyclic.self = cyclic;

const JUNK: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['{}', {}],
  ['[]', []],
  ['42', 42],
  ["'x'", 'x'],
  ['throwing getters', throwingGetters],
  ['throwing proxy', throwingProxy],
  ['cyclic', cyclic],
];
/** Each junk value alone, in every position of a three-argument call, and after a well-formed id. */
const ARG_LISTS: readonly ((junk: unknown) => unknown[])[] = [(j) => [j], (j) => [j, j, j], (j) => ['x1', j], (j) => ['x1', j, j], (j) => ['x1', 'x2', j]];

/**
 * Methods whose contract is synchronous: they may throw a CrmError at once (`crm.as` refuses a
 * malformed principal, an observer factory its options). Every other method returns a promise.
 */
const SYNC = new Set([
  ...['crm.on', 'crm.as', 'export.run', 'stream.toReadableStream', 'automations.causedBy'],
  ...['scheduler.start', 'webhooks.start', 'automations.start', 'consumer.start'],
  ...['observer.subscribe', 'observer.getSnapshot', 'observer.setId', 'observer.setOptions', 'observer.setTarget'],
]);
const isSync = (label: string, method: string) => SYNC.has(`${label.replace(/^view\./, '').replace(/^observer\..*/, 'observer')}.${method}`) || label.endsWith('observe');

type TestCrmOf = TestCrm['crm'];

/**
 * Records with the id `x1` (a pipeline with stages `x2`, `x3`), so that junk after a well-formed id
 * reaches past the record lookup into the method's own reading of its arguments.
 */
async function seed(crm: TestCrmOf): Promise<void> {
  await crm.pipelines.create({ id: 'x1', name: 'Sales', stages: [{ key: 'x2', name: 'New' }, { key: 'x3', name: 'Won', kind: 'won' }] });
  await crm.leads.create({ id: 'x1', name: 'Ada' });
  await crm.contacts.create({ id: 'x1', name: 'Ada' });
  await crm.companies.create({ id: 'x1', name: 'Acme' });
  await crm.deals.create({ id: 'x1', title: 'Deal', pipelineId: 'x1' });
  await crm.tasks.create({ id: 'x1', subject: 'Call', dueAt: '2026-01-06T09:00:00Z', dealId: 'x1' });
  await crm.activities.log({ id: 'x1', kind: 'note', dealId: 'x1' });
  await crm.assignment.createStrategy({ id: 'x1', name: 'Round robin', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'u1' }] });
}

/** Every public API object of a crm and of a view of it, and the objects their methods hand out. */
async function publicObjects(crm: TestCrmOf): Promise<[string, object][]> {
  const view = crm.as({ userId: 'u1' });
  const objects: [string, object][] = [...apisOf(crm), ...apisOf(view).map(([path, api]): [string, object] => [`view.${path}`, api])];
  for (const [prefix, c] of [['', crm], ['view.', view]] as const) {
    objects.push([`${prefix}consumer`, await c.events.consume(`sweep${prefix ? '-view' : ''}`, () => undefined, { start: false })]);
    objects.push([`${prefix}stream`, c.export.run({ entity: 'contact' })]);
    const observe = c.observe as unknown as Record<string, (...a: unknown[]) => object>;
    for (const [factory, args] of [['deal', ['x1']], ['deals', []], ['board', ['x1']], ['agenda', [{ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }]], ['timeline', [{ type: 'deal', id: 'x1' }]]] as const) {
      objects.push([`${prefix}observer.${factory}`, observe[factory]!(...args)]);
    }
  }
  return objects;
}

/** A fresh crm with every feature, seeded, and its public objects. */
async function world(): Promise<{ crm: TestCrmOf; objects: [string, object][] }> {
  const { crm } = await createTestCrm();
  await seed(crm);
  return { crm, objects: await publicObjects(crm) };
}

/** Calls one method with every junk argument list; returns what was not a CrmError. */
async function sweep(label: string, api: object, method: string): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, junk] of JUNK) {
    for (const argsOf of ARG_LISTS) {
      const args = argsOf(junk);
      const call = `${label}.${method}(${args.map((a) => (a === junk ? name : JSON.stringify(a))).join(', ')})`;
      const outcome = await callOnce(api, method, args);
      if (outcome.how === 'sync' && !isSync(label, method)) problems.push(`${call} threw synchronously: ${describeError(outcome.value)}`);
      else if ((outcome.how === 'sync' || outcome.how === 'rejected') && !isCrmError(outcome.value)) problems.push(`${call}: ${describeError(outcome.value)}`);
      else if (outcome.how === 'returned' && !isSync(label, method)) problems.push(`${call} returned ${typeof outcome.value}, not a promise`);
    }
  }
  return problems;
}

// Bad input gets a CrmError, whatever it is and wherever it goes: no TypeError from an internal method a
// caller can reach (TypeScript's private is not private at run time), no error of the caller's own getters.
describe('every method of every public object refuses junk with a CrmError', () => {
  it('on a crm with every feature and on a view (each method on fresh records)', async () => {
    const { crm, objects } = await world();
    const methods = objects.flatMap(([label, api], i) => methodsOf(api).filter((m) => m !== 'close').map((m) => [i, label, m] as const));
    // Every API of both, features included, and the objects they hand out.
    expect(methods.length).toBeGreaterThan(400);
    await crm.close();
    const problems: string[] = [];
    for (const [i, label, method] of methods) {
      const fresh = await world();
      problems.push(...(await sweep(label, fresh.objects[i]![1], method)));
      await fresh.crm.close();
    }
    expect(problems).toEqual([]);
  }, 600_000);

  it('after crm.close()', async () => {
    const { crm, objects } = await world();
    await crm.close();
    const problems: string[] = [];
    for (const [label, api] of objects) for (const method of methodsOf(api)) problems.push(...(await sweep(label, api, method)));
    expect(problems).toEqual([]);
  }, 300_000);

  it('the exported functions that take caller input: createCrm, the features with options, csvSource, toCsv, describeEvent, formatMoney, signPayload, isCrmError', async () => {
    const functions: Record<string, (...args: unknown[]) => unknown> = {
      createCrm: (x) => createCrm(x as never),
      'createCrm(options)': (_, y) => createCrm({ storage: createMemoryStorage(), tenantId: 't', clock: y, random: y } as never).then((crm) => crm.close()),
      scheduler: (x) => scheduler(x as never),
      webhooks: (x) => webhooks(x as never),
      automations: (x) => automations(x as never),
      csvSource: (x, y) => csvSource(x as never, y as never),
      toCsv: (x, y) => toCsv(x as never, y as never),
      describeEvent: (x, y) => describeEvent(x as never, y as never),
      'describeEvent(event)': (_, y) => describeEvent({ type: 'deal.won', data: {} } as never, { locale: y, timeZone: y } as never),
      formatMoney: (x, y) => formatMoney(x as never, y as never),
      signPayload: (x, y, z) => signPayload(x as never, y as never, z as never, 'body'),
    };
    const problems: string[] = [];
    for (const [name, fn] of Object.entries(functions)) {
      for (const [junkName, junk] of JUNK) {
        for (const argsOf of ARG_LISTS) {
          const outcome = await callOnce({ fn }, 'fn', argsOf(junk));
          if ((outcome.how === 'sync' || outcome.how === 'rejected') && !isCrmError(outcome.value)) problems.push(`${name}(${junkName}): ${describeError(outcome.value)}`);
        }
      }
    }
    for (const [name, junk] of JUNK) if (isCrmError(junk) !== false) problems.push(`isCrmError(${name})`);
    expect(() => isCrmError(throwingProxy)).not.toThrow();
    expect(problems).toEqual([]);
  });
});

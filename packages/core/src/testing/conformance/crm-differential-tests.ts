import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import { localIsoDate } from '../../domain/calendar/zoned-time.js';
import { normalizeEmail } from '../../domain/normalize.js';
import { where } from '../../query/query-spec.js';
import { createCrm, type CreateCrmOptions } from '../../crm/create-crm.js';
import type { CrmWith } from '../../crm/feature.js';
import { allFeatures, type AllFeatures } from '../create-test-crm.js';
import { silentLogger } from '../../crm/logger.js';
import { CRM_STORAGE_SCHEMA } from '../../storage/crm-schema.js';
import { createMemoryStorage } from '../../storage/memory-storage.js';
import type { StorageAdapter } from '../../storage/storage-adapter.js';
import type { ConformanceFactory, ConformanceSubject } from './harness.js';
import { createFakeClock, type FakeClock } from '../fake-clock.js';
import { anyInput, BAD_INPUT_TARGETS, poisonFor, seedBadInputData, type BadInputIds } from '../crm/bad-input-targets.js';

export interface CrmConformanceOptions {
  /** Runs of each property (default 25; the memory reference runs every input too). */
  readonly numRuns?: number;
  /** Per-test timeout in ms (default 120 000). */
  readonly timeout?: number;
}

/** The outcome of a call as it can be compared across adapters: `ok`, or the error code with its issue paths. */
async function verdict(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (!isCrmError(error)) return `not a CrmError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    if (error.code !== 'VALIDATION') return error.code;
    const issues = (error.details as { issues: readonly { path: readonly (string | number)[]; code: string }[] }).issues;
    return `VALIDATION ${issues.map((i) => `${i.path.join('.')}:${i.code}`).sort().join(' ')}`;
  }
}

/** A fingerprint of everything a tenant has stored: rows and versions per entity (any write changes it). */
async function fingerprint(storage: StorageAdapter, tenantId: string): Promise<string> {
  return storage.transaction('r', async (tx) => {
    const parts: string[] = [];
    for (const entity of CRM_STORAGE_SCHEMA.entities) {
      // The tables are small here: every row's id and version, in id order.
      const { rows } = await tx.query(entity.name, tenantId, { sort: [{ field: 'id' }] });
      parts.push(`${entity.name}:${rows.map((r) => `${r.id}@${r.version}`).join(',')}`);
    }
    return parts.join(' ');
  });
}

/** A short description of any input for failure messages (bigints and cycles included). */
function describeInput(input: unknown): string {
  try {
    return String(JSON.stringify(input, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(input)).slice(0, 80);
  } catch {
    return Object.prototype.toString.call(input);
  }
}

type Crm = CrmWith<AllFeatures>;

interface Pair {
  readonly subject: Crm;
  readonly reference: Crm;
  readonly subjectStorage: StorageAdapter;
  readonly clock: FakeClock;
}

/**
 * The crm-level differential tests: the whole crm on the adapter must give the same answers and
 * verdicts as on the reference (memory) adapter — for bad input of every public method (and write
 * nothing), `where.same` identity searches, all-day deadlines and lead scoring on every field type
 * scoring allows. Registered by `describeCrmConformance`.
 */
export function crmDifferentialTests(factory: ConformanceFactory, options: CrmConformanceOptions = {}): void {
  const numRuns = options.numRuns ?? 25;
  let subjects: ConformanceSubject[] = [];
  let crms: Crm[] = [];

  const pair = async (extra: Partial<CreateCrmOptions<AllFeatures>> = {}): Promise<Pair> => {
    const made = await factory();
    const subject = 'adapter' in made ? made : { adapter: made };
    subjects.push(subject);
    const clock = createFakeClock('2026-03-02T08:00:00.000Z');
    const make = (storage: StorageAdapter): Promise<Crm> =>
      createCrm({ storage, tenantId: 'conf', actor: { userId: 'u1' }, clock, logger: silentLogger, random: { seed: 7 }, features: allFeatures(), ...extra });
    const a = await make(subject.adapter);
    const b = await make(createMemoryStorage());
    crms.push(a, b);
    return { subject: a, reference: b, subjectStorage: subject.adapter, clock };
  };

  describe('the same answers and verdicts as the memory reference', () => {
    afterEach(async () => {
      for (const crm of crms) await crm.close().catch(() => undefined);
      for (const s of subjects) await s.dispose?.();
      crms = [];
      subjects = [];
    });

    it('bad input to every public method gets the reference\'s verdict, and writes nothing', async () => {
      const { subject, reference, subjectStorage } = await pair();
      const ids: [BadInputIds, BadInputIds] = [await seedBadInputData(subject), await seedBadInputData(reference)];
      expect(ids[0]).toEqual(ids[1]);
      let stored = await fingerprint(subjectStorage, 'conf');
      const check = async (target: (typeof BAD_INPUT_TARGETS)[number], input: unknown) => {
        const [got, expected] = [await verdict(target.call(subject, input, ids[0])), await verdict(target.call(reference, input, ids[1]))];
        expect(got, `${target.name}(${describeInput(input)})`).toBe(expected);
        expect(got.startsWith('not a CrmError'), `${target.name}: ${got}`).toBe(false);
        const after = await fingerprint(subjectStorage, 'conf');
        if (got !== 'ok') expect(after, `${target.name} wrote despite ${got}`).toBe(stored);
        stored = after;
      };
      for (const target of BAD_INPUT_TARGETS) {
        await fc.assert(fc.asyncProperty(anyInput, (input) => check(target, input)), { numRuns });
        const valid = target.valid;
        if (!valid) continue;
        const poisoned = fc.constantFrom(...Object.keys(valid)).chain((field) => fc.constantFrom(...poisonFor(valid[field])).map((poison) => ({ ...valid, [field]: poison })));
        await fc.assert(fc.asyncProperty(poisoned, (input) => check(target, input)), { numRuns });
      }
    });

    it('where.same finds the same identities as the reference, and as their normal form says (property)', async () => {
      const { subject, reference } = await pair();
      const locals = ['ada', 'Ada', 'ADA', 'ada.l', 'ada+x', 'zoë', 'ZOË', 'Zoe\u0308'];
      const domains = ['example.com', 'EXAMPLE.com', 'bücher.de', 'xn--bcher-kva.de', 'BÜCHER.DE', 'gmail.com', 'GoogleMail.com', 'ｅｘａｍｐｌｅ。com'];
      const email = fc.tuple(fc.constantFrom(...locals), fc.constantFrom(...domains)).map(([l, d]) => `${l}@${d}`);
      const people = await fc.sample(fc.array(email, { minLength: 3, maxLength: 10 }), { numRuns: 1, seed: 42 })[0]!;
      for (const [i, address] of people.entries()) {
        await subject.contacts.create({ name: `P${i}`, email: address, phone: `+49 30 1234 56${i % 3}` });
        await reference.contacts.create({ name: `P${i}`, email: address, phone: `+49 30 1234 56${i % 3}` });
      }
      await fc.assert(
        fc.asyncProperty(email, fc.constantFrom('+49 30 1234 560', '0049 (30) 1234-561', '+49 30 1234 569'), async (probe, phone) => {
          for (const filter of [where.same('email', probe), where.same('phone', phone), where.or(where.same('email', probe), where.same('phone', phone))]) {
            const got = (await subject.contacts.list({ where: filter, orderBy: [{ field: 'name' }], limit: 100 })).items.map((c) => c.name);
            const expected = (await reference.contacts.list({ where: filter, orderBy: [{ field: 'name' }], limit: 100 })).items.map((c) => c.name);
            expect(got).toEqual(expected);
          }
          const byEmail = (await subject.contacts.list({ where: where.same('email', probe), orderBy: [{ field: 'name' }], limit: 100 })).items.map((c) => c.name);
          expect(byEmail).toEqual(people.map((p, i) => [p, `P${i}`] as const).filter(([p]) => normalizeEmail(p) === normalizeEmail(probe)).map(([, n]) => n).sort());
        }),
        { numRuns },
      );
    });

    it('all-day tasks are overdue exactly when their local day is over, as on the reference (property)', async () => {
      const { subject, reference, clock } = await pair();
      const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...zones), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 72 * 60 }), async (zone, dayOffset, minutes) => {
          clock.set('2026-03-02T08:00:00.000Z');
          const dueMs = Date.parse('2026-03-03T12:00:00Z') + dayOffset * 86_400_000;
          const dueDate = localIsoDate(dueMs, zone);
          const made: { id: string }[] = [];
          for (const crm of [subject, reference]) made.push(await crm.tasks.create({ subject: dueDate, allDay: true, dueDate, timezone: zone, ownerId: 'p' }));
          clock.set(dueMs + minutes * 60_000);
          const agendas = [await subject.tasks.agenda({ ownerId: 'p' }), await reference.tasks.agenda({ ownerId: 'p' })];
          expect(agendas[0]!.overdue.map((t) => t.id)).toEqual(agendas[1]!.overdue.map((t) => t.id));
          expect(agendas[0]!.overdue.some((t) => t.id === made[0]!.id)).toBe(localIsoDate(clock.now(), zone) > dueDate);
          const window = { from: '2026-01-01T00:00:00Z', to: '2028-01-01T00:00:00Z' };
          expect(await subject.tasks.workload(window)).toEqual(await reference.tasks.workload(window));
          for (const [crm, task] of [[subject, made[0]!], [reference, made[1]!]] as const) await crm.tasks.cancel(task.id);
        }),
        { numRuns },
      );
    });

    it('lead scoring gives the reference\'s model and predictions for every field type scoring allows (property)', async () => {
      const { subject, reference } = await pair();
      const setup = async (crm: Crm) => {
        await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }, { key: 'deal', name: 'Deal' }] });
        await crm.customFields.define({ entity: 'deal', key: 'segment', label: 'Segment', type: 'text' });
        await crm.customFields.define({ entity: 'deal', key: 'size', label: 'Size', type: 'select', options: [{ value: 's' }, { value: 'm' }, { value: 'l' }] });
        await crm.customFields.define({ entity: 'deal', key: 'vip', label: 'VIP', type: 'boolean' });
        await crm.customFields.define({ entity: 'deal', key: 'modules', label: 'Modules', type: 'multiselect', options: [{ value: 'crm' }, { value: 'erp' }, { value: 'web' }] });
        await crm.customFields.define({ entity: 'deal', key: 'seats', label: 'Seats', type: 'number' });
        await crm.customFields.define({ entity: 'deal', key: 'toString', label: 'Inherited name', type: 'text' });
      };
      await setup(subject);
      await setup(reference);
      const dealArb = fc.record(
        {
          outcome: fc.constantFrom('won', 'lost', 'lost', 'open'),
          stage: fc.constantFrom('new', 'offer', 'deal'),
          source: fc.constantFrom('web', 'ads', 'Web', 'partner'),
          country: fc.constantFrom('DE', 'FR'),
          ownerId: fc.constantFrom('u1', 'u2'),
          tags: fc.uniqueArray(fc.constantFrom('vip', 'b2b', 'Vip', 'é'), { maxLength: 3 }),
          segment: fc.constantFrom('smb', 'enterprise', 'Smb'),
          size: fc.constantFrom('s', 'm', 'l'),
          vip: fc.boolean(),
          modules: fc.uniqueArray(fc.constantFrom('crm', 'erp', 'web'), { maxLength: 3 }),
        },
        { requiredKeys: ['outcome', 'stage'] },
      );
      const fields = ['stage', 'source', 'country', 'ownerId', 'tags', 'custom.segment', 'custom.size', 'custom.vip', 'custom.modules', 'custom.toString'];
      await fc.assert(
        fc.asyncProperty(fc.array(dealArb, { minLength: 1, maxLength: 12 }), fc.subarray(fields, { minLength: 1 }), fc.subarray(['source', 'tags', 'custom.vip', 'custom.modules']), async (deals, chosen, unset) => {
          for (const crm of [subject, reference]) {
            for (const d of deals) {
              const custom = Object.fromEntries(Object.entries({ segment: d.segment, size: d.size, vip: d.vip, modules: d.modules }).filter(([, v]) => v !== undefined));
              const created = await crm.deals.create({ title: 'x', stageKey: d.stage, ...(d.source ? { source: d.source } : {}), ...(d.country ? { country: d.country } : {}), ...(d.ownerId ? { ownerId: d.ownerId } : {}), ...(d.tags ? { tags: d.tags } : {}), custom });
              if (d.outcome === 'won') await crm.deals.win(created.id);
              if (d.outcome === 'lost') await crm.deals.lose(created.id, { reason: 'price' });
            }
          }
          const options = { fields: chosen, informativeUnset: unset.filter((f) => chosen.includes(f)) };
          const [a, b] = [await subject.scoring.model(options), await reference.scoring.model(options)];
          expect(a).toEqual(b);
          const open = (await reference.deals.list({ where: where.eq('status', 'open'), orderBy: [{ field: 'id' }], limit: 5 })).items;
          for (const deal of open) expect((await subject.scoring.score({ type: 'deal', id: deal.id }, options)).probability).toBe((await reference.scoring.score({ type: 'deal', id: deal.id }, options)).probability);
        }),
        { numRuns: Math.max(5, Math.floor(numRuns / 3)) },
      );
      for (const refused of [['custom.seats'], ['value.amount'], ['lostReason'], ['stage', 'stage']]) {
        const got = await verdict(subject.scoring.model({ fields: refused }));
        expect(got).toBe(await verdict(reference.scoring.model({ fields: refused })));
        expect(got.startsWith('VALIDATION')).toBe(true);
      }
    });
  });
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, where, type PhoneNumberParser, type StorageAdapter } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { duplicates } from '@crmkit/core/duplicates';
import { imports } from '@crmkit/core/imports';
import { phoneNumbers } from '@crmkit/core/phone';
import { email, emailSpelling, NUMBERS, phoneSpelling } from '../domain/identity-spellings.js';

/**
 * Every path that compares identities agrees, for e-mails and phones in any spelling: `where.same`, the
 * duplicate finder, an import keyed by them (upsert, update, the in-file duplicate check, its keyed
 * locks) and lead conversion. Same key ⇔ same identity (review16j #1–#3, #7).
 */

/** Memory storage that records the keys import chunks lock (`StorageTx.lockKeys`). */
function lockRecordingStorage(): { storage: StorageAdapter; locks: string[] } {
  const inner = createMemoryStorage();
  const locks: string[] = [];
  const wrap = (tx: StorageTx): StorageTx =>
    new Proxy(tx, {
      get: (target, key) => (key === 'lockKeys' ? (tenantId: string, keys: readonly string[]) => (locks.push(...keys), target.lockKeys(tenantId, keys)) : target[key as keyof StorageTx]),
    });
  const storage = new Proxy(inner, {
    get: (target, key) => (key === 'transaction' ? (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(wrap(tx))) : target[key as keyof typeof target]),
  }) as StorageAdapter;
  return { storage, locks };
}

type Field = 'email' | 'phone';

/** What each path says about `probe` against a contact stored with `stored`. */
async function verdicts(field: Field, stored: string, probe: string, setup: { phoneNumbers?: PhoneNumberParser; region?: string; padded?: string }) {
  const { storage, locks } = lockRecordingStorage();
  const crm = await createCrm({ storage, tenantId: 't', ...(setup.phoneNumbers ? { phoneNumbers: setup.phoneNumbers } : {}), features: [duplicates(), imports()] });
  if (setup.region) await crm.identity.set({ defaultRegion: setup.region });
  const run = (rows: Record<string, string>[], mode: 'create' | 'update' | 'upsert') => crm.import.run({ entity: 'contact', mode, key: field, rows, dryRun: true });
  // Before anything is stored: the two spellings in one file, and the keys each one locks.
  const inFile = await run([{ name: 'A', [field]: stored }, { name: 'B', [field]: probe }], 'create');
  const lockOf = async (value: string) => {
    locks.length = 0;
    await run([{ name: 'A', [field]: value }], 'upsert');
    return locks.filter((k) => k.startsWith(`contact:${field}:`));
  };
  const [storedLock, probeLock] = [await lockOf(stored), await lockOf(probe)];
  const contact = await crm.contacts.create({ name: 'Stored', [field]: stored });
  const found = (ids: readonly string[]) => ids.includes(contact.id);
  const answers = {
    same: found((await crm.contacts.list({ where: where.same(field, setup.padded ?? probe) })).items.map((c) => c.id)),
    finder: found((await crm.duplicates.find({ [field]: setup.padded ?? probe }, { entities: ['contact'] })).filter((c) => c.reasons.some((r) => r.kind === field)).map((c) => c.record.id)),
    upsert: (await run([{ name: 'Probe', [field]: probe }], 'upsert')).rows[0]!.id === contact.id,
    update: (await run([{ name: 'Probe', [field]: probe }], 'update')).rows[0]!.outcome === 'updated',
    inFile: inFile.rows[1]!.issues?.[0]?.code === 'duplicate_key',
    locks: storedLock.length === 1 && probeLock.length === 1 && storedLock[0] === probeLock[0],
  };
  // Last: a conversion that matches nothing creates a contact with the probe.
  const converted = await crm.leads.convert((await crm.leads.create({ name: 'Lead', [field]: probe })).id);
  return { ...answers, conversion: converted.contact.id === contact.id && converted.contactMatchedBy === field };
}

const agree = (expected: boolean) => ({ same: expected, finder: expected, upsert: expected, update: expected, inFile: expected, locks: expected, conversion: expected });

describe('every path agrees on identities: same key ⇔ same identity', () => {
  it('e-mails in any case, NFC or NFD (and space around, where a probe may have it) (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(email, email, fc.boolean()).chain(([a, b, sameOne]) => {
          const other = sameOne ? a : b;
          // Independently of the code under test: the same address up to case (NFC, upper case compared).
          const expected = a.normalize('NFC').toUpperCase() === other.normalize('NFC').toUpperCase();
          return fc.tuple(emailSpelling(a), emailSpelling(other), emailSpelling(other, true), fc.constant(expected));
        }),
        async ([stored, probe, padded, expected]) => {
          expect(await verdicts('email', stored, probe, { padded })).toEqual(agree(expected));
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it.each([
    ['the built-in parser', {}, ['+', '00', 'tel:+', '＋']],
    ['the numbering plans, no region', { phoneNumbers }, ['+', '00', 'tel:+']],
    ['the numbering plans in the US (011 too)', { phoneNumbers, region: 'US' }, ['+', '00 ', '011 ', '011']],
  ] as const)('phones in any spelling with %s (property)', async (_name, setup, prefixes) => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.constantFrom(...NUMBERS), fc.constantFrom(...NUMBERS), fc.boolean()).chain(([a, b, sameOne]) => fc.tuple(phoneSpelling(a, prefixes), phoneSpelling(sameOne ? a : b, prefixes), fc.constant(sameOne || a.e164 === b.e164))),
        async ([stored, probe, expected]) => {
          expect(await verdicts('phone', stored, probe, setup)).toEqual(agree(expected));
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);
});

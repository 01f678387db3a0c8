import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, isCrmError, where, type PhoneNumberParser } from '@crmkit/core';
import { duplicates } from '@crmkit/core/duplicates';
import { phoneNumbers } from '@crmkit/core/phone';

/**
 * One rule for phone text (review16k #3): every text `where.same('phone', …)` reads, a record's `phone`
 * accepts, with either parser. And a `same` node it cannot read is reported once, at its value (#4).
 */

const open = async (parser?: PhoneNumberParser) => {
  const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', ...(parser ? { phoneNumbers: parser } : {}), features: [duplicates()] });
  if (parser) await crm.identity.set({ defaultRegion: 'FR' });
  return crm;
};

/** Phone-like text: a number in a known spelling, then anything made of digits, separators and extension marks. */
const phoneish = fc
  .tuple(
    fc.constantFrom('+33 6 12 34 56 78', '06 12 34 56 78', '0033 (0)6 12 34 56 78', 'tel:+33-6-12-34-56-78', '＋３３ ６ １２ ３４ ５６ ７８', '+٣٣ ٦ ١٢ ٣٤ ٥٦ ٧٨', ''),
    fc.array(fc.constantFrom(...'0123456789 +()-./xX#;:=–', 'ext', 'ext.', 'extension', 'a', 'tel:'), { maxLength: 8 }).map((parts) => parts.join('')),
  )
  .map(([number, tail]) => (number + tail).trim())
  .filter((text) => text.length > 0 && text.length <= 40);

describe('phone text: where.same and a record agree', () => {
  for (const [name, parser] of [['built-in parser', undefined], ['phoneNumbers', phoneNumbers]] as const) {
    it(`every text where.same reads, contacts.create accepts (${name}; property)`, async () => {
      const crm = await open(parser);
      await fc.assert(
        fc.asyncProperty(phoneish, async (text) => {
          const read = await crm.contacts.list({ where: where.same('phone', text) }).then(
            () => true,
            (e: unknown) => (isCrmError(e, 'VALIDATION') ? false : Promise.reject(e)),
          );
          if (!read) return;
          await crm.contacts.create({ name: 'Z', phone: text });
        }),
        { numRuns: 150 },
      );
    });

    it(`a number with a bare extension mark is refused by both (${name})`, async () => {
      const crm = await open(parser);
      await expect(crm.contacts.list({ where: where.same('phone', '+33 6 12 34 56 78 x') })).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(crm.contacts.create({ name: 'Z', phone: '+33 6 12 34 56 78 x' })).rejects.toMatchObject({ code: 'VALIDATION' });
    });
  }

  it('an unreadable where.same value is the one issue reported (no second issue at where.op)', async () => {
    const crm = await open(phoneNumbers);
    for (const [node, path] of [
      [where.same('phone', 'x'), ['where', 'value']],
      [{ op: 'same', field: 'name', value: 'Ada' }, ['where', 'field']],
      [{ op: 'or', filters: [{ op: 'eq', field: 'name', value: 'Ada' }, where.same('email', 'nope')] }, ['where', 'filters', 1, 'value']],
    ] as const) {
      const error = await crm.contacts.list({ where: node as never }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path }] } });
      expect((error as { details: { issues: unknown[] } }).details.issues).toHaveLength(1);
    }
  });
});

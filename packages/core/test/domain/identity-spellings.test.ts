import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { phoneNumbers } from '@crmkit/core/phone';
import { foldCase, foldEmail, normalizeEmail, phoneKey } from '../../src/domain/normalize.js';
import { internationalPhoneParser } from '../../src/domain/phone-numbers.js';
import { keyFoldOf } from '../../src/imports/normalized-keys.js';
import { email, emailSpelling, NUMBERS, phoneSpelling } from './identity-spellings.js';

/** Identities read in one way everywhere: one e-mail fold, one phone parse (review16j #1, #2, #3, #7). */
describe('e-mail: one mailbox spelling (trim, NFC, case folding, IDNA domain)', () => {
  it('an NFD address is its NFC spelling, for the import key and the finder alike (review16j #1)', () => {
    const importKey = keyFoldOf('email')!.fold;
    expect(importKey('zoe\u0308@example.com')).toBe(importKey('Zo\u00eb@Example.com'));
    expect(normalizeEmail('zoe\u0308@example.com')).toBe(normalizeEmail('zo\u00eb@example.com'));
    expect(foldEmail(' Zoë@Bücher.DE ')).toBe('zoë@xn--bcher-kva.de');
    // Case folding, not only lower case: a Greek final sigma and ß compare as their other spellings.
    expect(foldEmail('ΑΣ@x.gr')).toBe(foldEmail('ασ@x.gr'));
    expect(foldEmail('STRASSE@x.de')).toBe(foldEmail('straße@x.de'));
    // Capital sharp s upper-cases to SS only from ß: folding is idempotent for every code point (review16l #1).
    expect(foldEmail('STRAẞE@x.de')).toBe(foldEmail('straße@x.de'));
    for (let c = 0; c < 0x30000; c++) {
      if (c >= 0xd800 && c < 0xe000) continue;
      const once = foldCase(String.fromCodePoint(c));
      if (foldCase(once) !== once) expect.fail(`fold of U+${c.toString(16)} is not idempotent`);
    }
    // The finder's identity adds provider rules; the import key does not (documented).
    expect(foldEmail('John.Doe+x@gmail.com')).toBe('john.doe+x@gmail.com');
    expect(normalizeEmail('John.Doe+x@gmail.com')).toBe('johndoe@gmail.com');
  });

  it('every spelling (case, NFC/NFD, space around) has the same key for the import and the finder; other addresses another (property)', () => {
    fc.assert(
      fc.property(
        email.chain((a) => fc.tuple(fc.constant(a), emailSpelling(a, true), emailSpelling(a, true))),
        email,
        ([a, x, y], b) => {
          expect(foldEmail(x)).toBe(foldEmail(a));
          expect(foldEmail(y)).toBe(foldEmail(a));
          expect(keyFoldOf('email')!.fold(x)).toBe(foldEmail(a));
          expect(normalizeEmail(x)).toBe(normalizeEmail(a));
          expect(normalizeEmail(a)).toBeDefined();
          // Same key ⇔ same identity (no provider rules at these domains).
          expect(foldEmail(a) === foldEmail(b)).toBe(normalizeEmail(a) === normalizeEmail(b));
          expect(foldEmail(foldEmail(x))).toBe(foldEmail(x));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('phone: one parse, the same key with and without numbering plans', () => {
  const plans = (text: string, region?: string) => phoneKey(text, { parser: phoneNumbers, ...(region ? { region } : {}) });

  it('"0033 (0)6 …" is "+33 6 …" (review16j #2: the 00 prefix is dropped before the (0) trunk rule)', () => {
    for (const text of ['0033 (0)6 12 34 56 78', '00 33 (0)6 12 34 56 78', '0033(0)612345678', '+33 (0)6 12 34 56 78', '0044 (0)20 7946 0958']) {
      expect(phoneKey(text), text).toBe(text.includes('44') ? '+442079460958' : '+33612345678');
    }
  });

  it('everyday spellings: dashes of every width, extension words, full-width digits, tel: URIs, dots and slashes (review16j #7)', () => {
    for (const text of ['+33 6–12–34–56–78', '+33 6—12—34—56—78', '+33 6 12 34 56 78 extension 12', '+33 6 12 34 56 78 extn 12', '+33 6 12 34 56 78 ext: 12', '＋３３ ６ １２ ３４ ５６ ７８', 'tel:+33-6-12-34-56-78', 'tel:+33-6-12-34-56-78;ext=12', '+33.6.12.34.56.78', '+33/6/12/34/56/78', '+33\u00a06\u00a012 34 56 78']) {
      expect(phoneKey(text), text).toBe('+33612345678');
      expect(plans(text), text).toBe('+33612345678');
    }
    // Not read by the built-in parser (documented): digits of other scripts, another international prefix, words.
    for (const text of ['+٣٣ ٦ ١٢ ٣٤ ٥٦ ٧٨', '011 33 6 12 34 56 78', '+33 6 12 34 56 78 poste 12']) expect(phoneKey(text), text).toBeUndefined();
    expect(plans('+٣٣ ٦ ١٢ ٣٤ ٥٦ ٧٨')).toBe('+33612345678');
    expect(plans('011 33 6 12 34 56 78', 'US')).toBe('+33612345678');
  });

  it('with the plans, "0033 6 …" keeps the identity the built-in parser gives it, with no region and in the US (review16j #3)', () => {
    expect(plans('0033 6 12 34 56 78')).toBe('+33612345678');
    expect(plans('0033 6 12 34 56 78', 'US')).toBe('+33612345678');
    expect(plans('0033 6 12 34 56 78', 'FR')).toBe('+33612345678');
    // Checked against the plans: a number invalid for its country has no identity with them.
    expect(internationalPhoneParser.toE164('0033 1')).toBeUndefined();
    expect(plans('0033 6 12')).toBeUndefined();
    expect(internationalPhoneParser.toE164('+33 6 12 34 56')).toBe('+336123456');
    expect(plans('+33 6 12 34 56')).toBeUndefined();
  });

  it('every international spelling of a valid number is its E.164 number: built-in, and with the plans in no region, FR and US; 011 from the US with the plans (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NUMBERS).chain((n) => fc.tuple(fc.constant(n), phoneSpelling(n), phoneSpelling(n, ['011 ', '011', '011-']))),
        ([number, spelling, fromUs]) => {
          expect(phoneKey(spelling), spelling).toBe(number.e164);
          for (const region of [undefined, 'FR', 'US']) expect(plans(spelling, region), `${spelling} in ${region}`).toBe(number.e164);
          expect(plans(fromUs, 'US'), fromUs).toBe(number.e164);
          // Without plans 011 is no international prefix (it starts national numbers elsewhere): no identity, no false match.
          expect(phoneKey(fromUs)).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { companyDomainFromEmail, emailDomain, normalizeCompanyName, normalizeDomain, normalizeEmail, normalizeHost, normalizeName, phoneKey } from '../../src/domain/normalize.js';
import { phoneNumbers } from '@crmkit/core/phone';
import { domainSchema, emailSchema } from '../../src/schema/primitives.js';

describe('normalisation', () => {
  it('folds e-mail addresses only where the provider ignores the difference', () => {
    expect(normalizeEmail('John.Doe+crm@GoogleMail.com')).toBe('johndoe@gmail.com');
    expect(normalizeEmail(' j.o.h.n@gmail.com ')).toBe('john@gmail.com');
    expect(normalizeEmail('john.doe+tag@outlook.com')).toBe('john.doe@outlook.com'); // dots matter at Outlook
    expect(normalizeEmail('john.doe+tag@acme.com')).toBe('john.doe+tag@acme.com'); // unknown provider: keep
    expect(normalizeEmail('Ivan@Yandex.RU')).toBe('ivan@yandex.ru');
    expect(normalizeEmail('no-at-sign')).toBeUndefined();
    expect(normalizeEmail('+tag@gmail.com')).toBeUndefined();
  });

  it('phone identity is the E.164 number: international spellings with the built-in parser', () => {
    expect(phoneKey('+7 912 345 6789')).toBe('+79123456789');
    expect(phoneKey('00 49 151 1234567')).toBe('+491511234567');
    expect(phoneKey('+33 (0)6 12 34 56 78')).toBe('+33612345678');
    expect(phoneKey('+1 415 555 0100 ext. 12')).toBe('+14155550100');
    // Written nationally, a number has no country: no identity, so it can never match another country's number.
    expect(phoneKey('06 12 34 56 78')).toBeUndefined();
    expect(phoneKey('8 (912) 345-67-89')).toBeUndefined();
    expect(phoneKey('12-34')).toBeUndefined();
    expect(phoneKey('+0 123 456 789')).toBeUndefined();
    expect(phoneKey(undefined)).toBeUndefined();
  });

  it('reads national numbers with libphonenumber-js metadata and a region (@crmkit/core/phone)', () => {
    const read = (phone: string, region?: string) => phoneKey(phone, { parser: phoneNumbers, ...(region ? { region } : {}) });
    expect(read('06 12 34 56 78', 'FR')).toBe('+33612345678');
    expect(read('+33 6 12 34 56 78', 'DE')).toBe('+33612345678');
    expect(read('8 (912) 345-67-89', 'RU')).toBe('+79123456789');
    expect(read('0151 1234567', 'DE')).toBe('+491511234567');
    expect(read('(415) 555-0100 ext. 12', 'US')).toBe('+14155550100');
    expect(read('06 12 34 56 78')).toBeUndefined(); // no region: no identity
    expect(read('06 12 34 56 78', 'ZZ')).toBeUndefined();
    expect(read('+33 1', 'FR')).toBeUndefined(); // not a valid French number
  });

  it('never matches numbers of different countries (the last-ten-digits key did: +44 20 7946 0958 = +1 207 946 0958)', () => {
    expect(phoneKey('+44 20 7946 0958')).not.toBe(phoneKey('+1 207-946-0958'));
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{8,9}$/), fc.constantFrom('1', '7', '33', '44', '49', '380', '971'), fc.constantFrom('1', '7', '33', '44', '49', '380', '971'), (digits, a, b) => {
        fc.pre(a !== b);
        for (const parser of [undefined, phoneNumbers]) {
          const x = phoneKey(`+${a} ${digits}`, { parser });
          const y = phoneKey(`+${b} ${digits}`, { parser });
          if (x !== undefined || y !== undefined) expect(x).not.toBe(y);
        }
        // National spellings of the same digits in two regions never share an identity either.
        const fr = phoneKey(`0${digits.slice(0, 9)}`, { parser: phoneNumbers, region: 'FR' });
        const de = phoneKey(`0${digits.slice(0, 9)}`, { parser: phoneNumbers, region: 'DE' });
        if (fr !== undefined || de !== undefined) expect(fr).not.toBe(de);
      }),
      { numRuns: 300 },
    );
  });

  it('compares domains and e-mail domains after IDNA (UTS #46) normalisation', () => {
    expect(normalizeDomain('Bücher.DE')).toBe('xn--bcher-kva.de');
    expect(normalizeDomain('https://www.xn--bcher-kva.de/shop')).toBe('xn--bcher-kva.de');
    expect(normalizeDomain('ｅｘａｍｐｌｅ。com')).toBe('example.com');
    expect(normalizeDomain('faß.de')).toBe('xn--fa-hia.de'); // non-transitional, as browsers do
    expect(normalizeEmail('Ada@Bücher.DE')).toBe('ada@xn--bcher-kva.de');
    expect(normalizeEmail('ada@xn--bcher-kva.de')).toBe(normalizeEmail('ADA@bücher.de'));
    expect(emailDomain('x@ＡＣＭＥ.com')).toBe('acme.com');
    for (const bad of ['1.2.3.4', 'localhost', 'a..b', 'exa_mple.com', '-acme.com', 'acme-.com', '[::1]', 'xn--zz.com', 'acme.123']) {
      expect(normalizeHost(bad), bad).toBeUndefined();
    }
  });

  it('a domain derived from an accepted e-mail is always an accepted domain (property)', async () => {
    const labels = fc.stringMatching(/^[a-zäöüßéñ0-9][a-zäöüßéñ0-9-]{0,10}$/);
    await fc.assert(
      fc.property(fc.array(labels, { minLength: 2, maxLength: 4 }), fc.stringMatching(/^[a-z0-9._+-]{1,20}$/), (parts, local) => {
        const email = `${local}@${parts.join('.')}`;
        const accepted = emailSchema.safeParse(email).success;
        const derived = companyDomainFromEmail(email);
        if (accepted && derived !== undefined) expect(domainSchema.safeParse(derived).success).toBe(true);
        if (accepted) expect(emailDomain(email)).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });

  it('normalises names: case, accents, punctuation, legal forms', () => {
    expect(normalizeName("  Zoë  O'Brien ")).toBe('zoe o brien');
    expect(normalizeName('Ёлкин Пётр')).toBe('елкин петр');
    expect(normalizeCompanyName('ACME Ltd.')).toBe('acme');
    expect(normalizeCompanyName('The Analytical Engine Company GmbH')).toBe('analytical engine');
    expect(normalizeCompanyName('ООО Ромашка')).toBe('ооо ромашка'); // Cyrillic legal form is not the Latin "ooo"
  });
});

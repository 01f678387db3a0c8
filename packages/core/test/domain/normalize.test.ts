import { describe, expect, it } from 'vitest';
import { normalizeCompanyName, normalizeDomain, normalizeEmail, normalizeName, phoneKey } from '../../src/domain/normalize.js';

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

  it('reduces phones to a key shared by national and international spellings', () => {
    expect(phoneKey('8 (912) 345-67-89')).toBe(phoneKey('+7 912 345 6789'));
    expect(phoneKey('0151 1234567')).toBe(phoneKey('+49 151 1234567'));
    expect(phoneKey('(415) 555-0100 ext. 12')).toBe(phoneKey('+1 415 555 0100'));
    expect(phoneKey('12-34')).toBeUndefined();
    expect(phoneKey(undefined)).toBeUndefined();
  });

  it('extracts bare domains from websites', () => {
    expect(normalizeDomain('https://www.Acme.com/about?x=1')).toBe('acme.com');
    expect(normalizeDomain('acme.co.uk.')).toBe('acme.co.uk');
    expect(normalizeDomain('http://shop.acme.com:8080')).toBe('shop.acme.com');
    expect(normalizeDomain('not a domain')).toBeUndefined();
  });

  it('normalises names: case, accents, punctuation, legal forms', () => {
    expect(normalizeName("  Zoë  O'Brien ")).toBe('zoe o brien');
    expect(normalizeName('Ёлкин Пётр')).toBe('елкин петр');
    expect(normalizeCompanyName('ACME Ltd.')).toBe('acme');
    expect(normalizeCompanyName('The Analytical Engine Company GmbH')).toBe('analytical engine');
    expect(normalizeCompanyName('ООО Ромашка')).toBe('ооо ромашка'); // Cyrillic legal form is not the Latin "ooo"
  });
});

/**
 * Generators of equivalent spellings of e-mail addresses and phone numbers, for the identity property
 * tests (identity-spellings.test.ts: the functions; duplicates/identity-paths.test.ts: every path of a crm).
 */
import fc from 'fast-check';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import examples from 'libphonenumber-js/mobile/examples';

const LOCAL_CHARS = [...'abcdefghijklmnopqrstuvwxyz0123456789._-+', 'é', 'ë', 'ø', 'ñ', 'ß', 'σ', 'ς', 'α', 'ж', 'я'];
const DOMAINS = ['example.com', 'bücher.de', 'société.fr', 'пример.рф', 'crm-kit.io'];

/** A valid address at a provider without provider rules (so the finder's identity is the mailbox spelling). */
export const email = fc
  .tuple(fc.array(fc.constantFrom(...LOCAL_CHARS), { minLength: 1, maxLength: 12 }), fc.constantFrom(...DOMAINS))
  .map(([local, domain]) => `${local.join('').replace(/^[.+]+|\.+$/g, '') || 'a'}@${domain}`);

/** Case of each character (upper, lower or as is), then NFC or NFD, and optionally space around (`space`). */
export const emailSpelling = (address: string, space = false) =>
  fc
    .tuple(fc.array(fc.constantFrom('as', 'upper', 'lower'), { minLength: address.length, maxLength: address.length }), fc.constantFrom('NFC', 'NFD'), fc.constantFrom('', ' ', '\t', ' \u00a0'))
    .map(([cases, form, pad]) => {
      const cased = [...address].map((c, i) => (cases[i] === 'upper' ? c.toUpperCase() : cases[i] === 'lower' ? c.toLowerCase() : c)).join('').normalize(form);
      return space ? `${pad}${cased}${pad}` : cased;
    });

/** Valid mobile numbers of every country libphonenumber-js has an example for, in E.164; `trunk`: dialled with a 0 at home (`(0)` spellings). */
export const NUMBERS: readonly { e164: string; cc: string; nsn: string; trunk: boolean }[] = Object.entries(examples).flatMap(([country, example]) => {
  const parsed = parsePhoneNumberFromString(example, country as CountryCode);
  if (!parsed?.isValid()) return [];
  const trunk = parsePhoneNumberFromString(`0${parsed.nationalNumber}`, country as CountryCode)?.number === parsed.number && !parsed.nationalNumber.startsWith('0');
  return [{ e164: parsed.number, cc: parsed.countryCallingCode, nsn: parsed.nationalNumber, trunk }];
});

const SEPARATORS = ['', ' ', ' ', '-', '.', '/', '\u2013', '\u2014', '\u2011', '\u00a0', ' - '];
const EXTENSIONS = ['', ' x12', ' x 12', 'x12', ' ext. 12', ' ext 12', ' Ext.12', ' extn 12', ' extension 12', ', ext. 12', ';ext=12', ' #12'];
const fullWidth = (digits: string) => digits.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));

/**
 * A spelling of `number` with its country code: `+` (or `＋`, `tel:+`), `00`, or with `idd` another
 * international prefix (`011`); the digits in random groups and separators (dashes of every width,
 * dots, slashes, no-break spaces), some full-width; `(0)` where the country dials a trunk 0; an
 * extension; space around.
 */
export const phoneSpelling = (number: { cc: string; nsn: string; trunk: boolean }, prefixes: readonly string[] = ['+', '＋', '00', '00 ', 'tel:+']) =>
  fc
    .record({
      prefix: fc.constantFrom(...prefixes),
      afterCc: fc.constantFrom(...SEPARATORS),
      trunk: fc.boolean(),
      cuts: fc.array(fc.integer({ min: 1, max: number.nsn.length - 1 }), { maxLength: 4 }),
      seps: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 4, maxLength: 4 }),
      wide: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      extension: fc.constantFrom(...EXTENSIONS),
      pad: fc.constantFrom('', ' ', '  '),
    })
    .map(({ prefix, afterCc, trunk, cuts, seps, wide, extension, pad }) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const groups = [0, ...points].map((start, i) => number.nsn.slice(start, points[i] ?? undefined));
      const digits = (text: string, i: number) => (wide[i % wide.length] ? fullWidth(text) : text);
      const body = groups.map((g, i) => digits(g, i + 1) + (i < groups.length - 1 ? seps[i % seps.length] : '')).join('');
      const zero = trunk && number.trunk ? '(0)' : '';
      // A tel: URI has no spaces, and its extension is a parameter.
      if (prefix === 'tel:+') return `tel:+${number.cc}-${zero}${groups.join('-')}${extension ? ';ext=12' : ''}`;
      return `${pad}${prefix}${digits(number.cc, 0)}${afterCc}${zero}${body}${extension}${pad}`;
    });

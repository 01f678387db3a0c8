import * as z from 'zod/mini';
import { isIsoCurrency } from '../domain/iso-4217.js';
import { normalizeDomain, normalizeHost } from '../domain/normalize.js';
import { phoneText } from '../domain/phone-numbers.js';

// The builders below are marked free of side effects (as zod marks its own), so a bundler drops every
// schema built from them that nothing uses.

/** Limits shared by every schema; generous for real data, small enough to stop abuse. */
export const LIMITS = {
  shortText: 200,
  mediumText: 2_000,
  longText: 20_000,
  tags: 50,
  lineItems: 500,
  listLimit: 1_000,
  ids: 1_000,
  filterDepth: 8,
  filterNodes: 200,
} as const;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A record id: 1–64 characters of letters, digits, `_` and `-`. crmkit generates `deal_01J…`-style ids. */
export const idSchema = z.string().check(z.regex(ID_PATTERN, 'must be 1-64 letters, digits, "_" or "-"'));

/** A user id as the host app knows it (crmkit has no user table): 1–128 printable characters. */
export const userIdSchema = z.string().check(z.regex(/^[A-Za-z0-9._@:+-]{1,128}$/, 'must be 1-128 letters, digits or ._@:+-'));

/** Tenant ids follow the record-id shape. */
export const tenantIdSchema = idSchema;

const NON_BLANK = /\S/;
/** NUL characters are refused everywhere: PostgreSQL text and JSON cannot hold them. */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const NO_NUL = /^[^\u0000]*$/;

/** Any text up to `max` characters (no NUL). */
// @__NO_SIDE_EFFECTS__
export function text(max: number = LIMITS.shortText) {
  return z.string().check(z.maxLength(max), z.regex(NO_NUL, 'must not contain NUL characters'));
}

/** Required human text (a name, a title): not blank, at most `max` characters. */
// @__NO_SIDE_EFFECTS__
export function requiredText(max: number = LIMITS.shortText) {
  return text(max).check(z.regex(NON_BLANK, 'must not be blank'));
}

/** Optional free text up to `max` characters. */
// @__NO_SIDE_EFFECTS__
export function optionalText(max: number = LIMITS.shortText) {
  return z.optional(text(max));
}

/** The canonical stored timestamp: UTC ISO-8601 with milliseconds, e.g. `2026-11-22T10:00:00.000Z`. It sorts as text. */
export const timestampSchema = /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'must be a UTC timestamp'));
export type Timestamp = z.infer<typeof timestampSchema>;

/**
 * The first and the last instant a timestamp holds, epoch ms: `0000-01-01T00:00:00.000Z` and
 * `9999-12-31T23:59:59.999Z`, ISO 8601's four-digit year without a sign. A time outside is written with a
 * sign (`+010000-…`) and sorts before every other timestamp: inputs outside are refused (`isoDateTimeSchema`),
 * computed times are held at these ends or refused (`computedTimestamp`).
 */
export const FIRST_INSTANT = -62_167_219_200_000;
export const LAST_INSTANT = 253_402_300_799_999;

/**
 * zod's ISO formats (`z.iso.datetime({ offset: true })`, `z.iso.date()`) as `stringFormat`s with their format
 * names and patterns, without zod's ISO classes and pattern builders in every bundle (−0.14 kB gz): the same
 * issue (`invalid_format`, `must be a valid datetime|date`), the same `format` for the imports' field kinds.
 * A date with real month lengths and leap days; `test/schema/iso-formats.test.ts` holds them to zod's.
 */
const ISO_DATE = '^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8])))';

/**
 * Any ISO-8601 date-time with `Z` or an offset, as given (normalise it with `toTimestamp(Date.parse(value))`).
 * Its UTC year must be 0000–9999 (`FIRST_INSTANT`–`LAST_INSTANT`), so the canonical form sorts as text
 * (`9999-12-31T23:59-23:59` would become `+010000-…`, sorting before every other timestamp).
 */
// @__NO_SIDE_EFFECTS__
export const isoDateTimeSchema = () =>
  z.stringFormat('datetime', new RegExp(`${ISO_DATE}T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)$`)).check(
    // NaN is the format check's to report.
    z.refine((value, ms = Date.parse(value)) => !(ms < FIRST_INSTANT || ms > LAST_INSTANT), 'must be in UTC years 0000-9999'),
  );

/**
 * A timestamp as accepted from callers: any ISO-8601 date-time with `Z` or an offset.
 * It is normalised to the canonical UTC form, so `2026-01-01T12:00+02:00` is stored as `2026-01-01T10:00:00.000Z`.
 * The UTC year must be 0000–9999 (see `isoDateTimeSchema`).
 */
export const timestampInputSchema = /* @__PURE__ */ z.pipe(
  isoDateTimeSchema(),
  /* @__PURE__ */ z.transform((value: string) => new Date(value).toISOString()),
);

/** A calendar date without time, `YYYY-MM-DD` (expected close dates, birthdays, date custom fields). */
export const isoDateSchema = /* @__PURE__ */ z.stringFormat('date', new RegExp(`${ISO_DATE}$`));

/** An integer in the safe range: a refinement, lighter in bundles than zod's number formats. */
// @__NO_SIDE_EFFECTS__
export const int = () => z.refine<number>((n) => Number.isSafeInteger(n), 'must be an integer');

/** ISO 4217 currency code (`EUR`, `JPY`, `KWD`): three upper-case letters that the standard lists. */
export const currencySchema = z.string().check(
  z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like "EUR"'),
  z.refine((code) => !/^[A-Z]{3}$/.test(code) || isIsoCurrency(code), 'is not an ISO 4217 currency code'),
);

/** An amount of money in integer minor units (cents) — never a float. */
export const minorUnitsSchema = z.number().check(
  z.refine((n) => Number.isSafeInteger(n), 'must be an integer number of minor units (e.g. cents)'),
);

/** Money: `{ amount: 1999, currency: 'EUR' }` is €19.99. */
export const moneySchema = z.strictObject({ amount: minorUnitsSchema, currency: currencySchema });
export type Money = z.infer<typeof moneySchema>;

/** Tags: short labels used for segments. */
export const tagsSchema = z.array(requiredText(64)).check(z.maxLength(LIMITS.tags));

/** Probability in percent, 0–100: crmkit's one scale (a won stage is 100; weighted amount = amount × probability / 100). */
export const probabilitySchema = z.number().check(z.gte(0), z.lte(100));

/**
 * A probability as input (stages, deals, leads): a percent, 0–100. A value between 0 and 1 reads as a fraction
 * (0.35 for 35 %) and is refused, rather than stored as a third of a percent.
 */
export const probabilityInput = /* @__PURE__ */ probabilitySchema.check(z.refine((p) => !(p > 0 && p < 1), 'is a percent (0-100), not a fraction: 35 for 35 %'));

/**
 * An e-mail address: a local part, `@`, and a domain that `normalizeHost` accepts (IDNA per UTS #46,
 * so `ada@bücher.de` is fine and `ada@exa_mple..com` is not). Company domains derived from it pass
 * the same rule, so a derived domain is never refused.
 */
export const emailSchema = z.string().check(
  z.maxLength(254),
  z.regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an e-mail address'),
  z.refine((email) => !email.includes('@') || normalizeHost(email.slice(email.lastIndexOf('@') + 1)) !== undefined, 'must be an e-mail address with a valid domain'),
);

/** A web domain (`acme.com`, `bücher.de`, also written as a website `https://www.acme.com/`); stored in its canonical form. */
export const domainSchema = z.string().check(
  z.maxLength(253),
  z.refine((domain) => normalizeDomain(domain) !== undefined, 'must be a domain like "acme.com"'),
);

/**
 * A phone number as people write it, what the phone parsers read (`phoneText`): digits (also
 * full-width, or of another script), spaces, `+ ( ) . /`, dashes of every width, a `tel:` URI, an extension (`x12`, `ext. 12`,
 * `extension 12`, `;ext=12`, `#12`). Stored as written.
 */
export const phoneSchema = z.string().check(
  z.maxLength(40),
  z.superRefine((phone, ctx) => {
    if (phoneText(phone) === undefined) ctx.issues.push({ code: 'invalid_format', format: 'regex', input: phone, message: 'must be a phone number' });
  }),
);

/**
 * Custom values before they are checked against their definitions (by the custom-fields feature):
 * an object of any keys (a loose object rather than a record: same check, smaller bundle).
 */
export const customValuesInputSchema = z.looseObject({});

/** ISO 3166 alpha-2 country code. */
export const countrySchema = z.string().check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code like "DE"'));

/** A patch field: absent leaves the value, `null` clears it. */
export function clearable<T extends z.ZodMiniType>(schema: T) {
  return z.optional(z.nullable(schema));
}

/**
 * The patch shape of an editable shape: required fields become optional, optional ones `clearable`
 * (`null` clears them) except those in `keep`, which stay as they are (`tags`, `custom`: no `null`).
 * Derived rather than written again beside the create shape, so the two cannot drift (and bundles carry one).
 */
export type PatchShape<S extends Readonly<Record<string, z.ZodMiniType>>, K extends keyof S> = {
  -readonly [P in keyof S]: P extends K ? S[P] : S[P] extends z.ZodMiniOptional<infer T> ? z.ZodMiniOptional<z.ZodMiniNullable<T>> : z.ZodMiniOptional<S[P]>;
};

// @__NO_SIDE_EFFECTS__
export function patchShape<S extends Readonly<Record<string, z.ZodMiniType>>, K extends keyof S>(shape: S, keep: readonly K[]): PatchShape<S, K> {
  const out: Record<string, z.ZodMiniType> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const def = schema._zod.def as { type: string; innerType?: z.ZodMiniType };
    out[key] = keep.includes(key as K) ? schema : def.type === 'optional' ? clearable(def.innerType!) : z.optional(schema);
  }
  return out as PatchShape<S, K>;
}

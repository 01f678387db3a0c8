import { ID_PREFIX, createCommandIds } from '@crmkit/core/storage';
import type { Random } from '@crmkit/core';

export { createCommandIds };

/** Crockford base32, upper case (no I, L, O, U): the alphabet of crmkit's ids. */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const C = '[0-9A-HJKMNP-TV-Z]';

/** A device's client id: `cli_` and 22 Crockford base32 characters. */
export const CLIENT_ID_PATTERN = new RegExp(`^cli_${C}{22}$`);

/** A command's seed for derived ids (`createCommandIds`): 12 characters, the first `0`–`F`. */
export const SEED_PATTERN = new RegExp(`^[0-9A-F]${C}{11}$`);

/** The id a device chooses for a record it creates offline: `<prefix>_` and 22 Crockford base32 characters. */
export function clientRecordIdPattern(entity: string): RegExp {
  return new RegExp(`^${ID_PREFIX[entity] ?? entity}_${C}{22}$`);
}

/** `count` characters of Crockford base32 from `random`; the first below `first` (32: any). */
export function randomBase32(random: Random, count: number, first = 32): string {
  let text = CROCKFORD[Math.floor(random.next() * first)]!;
  while (text.length < count) text += CROCKFORD[Math.floor(random.next() * 32)];
  return text;
}

/** A new client id from `random` (a device makes one on its first start). */
export function newClientId(random: Random): string {
  return `cli_${randomBase32(random, 22)}`;
}

/** A new command seed from `random`. */
export function newSeed(random: Random): string {
  return randomBase32(random, 12, 16);
}

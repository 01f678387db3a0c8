import type { Random } from './random.js';
import { validationError } from '../errors/crm-error.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U

/** Id prefixes per entity, Stripe-style, so an id says what it points at. */
export const ID_PREFIX: Readonly<Record<string, string>> = {
  lead: 'lead',
  contact: 'ctc',
  company: 'co',
  deal: 'deal',
  pipeline: 'pl',
  task: 'task',
  activity: 'act',
  event: 'evt',
  customField: 'cf',
  stageVisit: 'sv',
  assignmentRule: 'asg',
  notification: 'ntf',
  setting: 'set',
  webhookEndpoint: 'whep',
  webhookAttempt: 'what',
};

/**
 * Generates time-ordered ids (`deal_01JD4Y3M5K…`): 10 characters of milliseconds and 12 of randomness,
 * monotonic within one generator even when several ids share a millisecond, so events of one
 * operation keep their order when sorted by id.
 */
export function createIdGenerator(random: Random): (entity: string, now: number) => string {
  let lastTime = -1;
  const lastRandom: number[] = [];
  return (entity, now) => {
    if (now === lastTime) {
      // Increment the random part by one, base 32, carrying left.
      let i = lastRandom.length - 1;
      while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
      if (i >= 0) lastRandom[i]!++;
    } else {
      lastTime = now;
      for (let i = 0; i < 12; i++) lastRandom[i] = Math.floor(random.next() * 32);
      lastRandom[0] = lastRandom[0]! & 0x0f; // headroom so increments never overflow
    }
    let time = '';
    let t = Math.max(0, Math.floor(now));
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32]! + time;
      t = Math.floor(t / 32);
    }
    // Plain loops: ids are made on every write (events, visits), closures and arrays per id add up.
    let rest = '';
    for (let i = 0; i < 12; i++) rest += ALPHABET[lastRandom[i]!];
    return `${ID_PREFIX[entity] ?? entity}_${time}${rest}`;
  };
}

/** The seed of a sync command: 12 Crockford base32 characters, the first below 16 (headroom for increments). */
const SEED = /^[0-9A-F][0-9A-HJKMNP-TV-Z]{11}$/;

/**
 * The ids a device-sync command derives (its tasks, stage visits, a converted lead's records): the id
 * generator with its time fixed to `at` and its random part starting at `seed`, incremented by one per
 * id. Device and server run a command with the same `(at, seed)` and get the same ids.
 *
 * @param at The command's device time, integer milliseconds since the epoch, 0 … 2^48.
 * @param seed 12 Crockford base32 characters, the first one `0`–`F`.
 * @returns A generator for `ctx.newId` (its time argument is ignored).
 * @throws CrmError `VALIDATION` (`at` or `seed`, issue code `invalid_format`) for a bad time or seed.
 */
export function createCommandIds(at: number, seed: string): (entity: string, nowMs?: number) => string {
  const issues = [
    ...(Number.isInteger(at) && at >= 0 && at <= 2 ** 48 ? [] : [{ path: ['at'], code: 'invalid_format', message: 'must be integer milliseconds in 0 … 2^48' }]),
    ...(typeof seed === 'string' && SEED.test(seed) ? [] : [{ path: ['seed'], code: 'invalid_format', message: 'must be 12 Crockford base32 characters, the first 0–F' }]),
  ];
  if (issues.length) throw validationError('createCommandIds', issues);
  let next = 0;
  const ids = createIdGenerator({ next: () => ALPHABET.indexOf(seed[next++]!) / 32 });
  return (entity) => ids(entity, at);
}

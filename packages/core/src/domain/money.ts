import type { Money } from '../schema/primitives.js';
import { CrmError } from '../errors/crm-error.js';

/**
 * Divides `numerator` by `denominator` (both integers, denominator > 0) and rounds half to even
 * ("banker's rounding"), the rounding that does not bias sums of many amounts.
 */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let q = n / denominator;
  const r = n % denominator;
  const twice = r * 2n;
  if (twice > denominator || (twice === denominator && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/**
 * `divideHalfEven` for safe integers, without BigInt allocations: exact while the numerator stays
 * within ±2^53 (the callers check), which covers every realistic amount.
 */
function divideHalfEvenSafe(numerator: number, denominator: number): number {
  const negative = numerator < 0;
  const n = negative ? -numerator : numerator;
  let q = Math.floor(n / denominator);
  const r = n - q * denominator;
  if (r * 2 > denominator || (r * 2 === denominator && q % 2 === 1)) q += 1;
  return negative ? -q : q;
}

/** Rounds a float to an integer half to even: `roundHalfEven(2.5) === 2`, `roundHalfEven(3.5) === 4`. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** An amount crmkit cannot hold exactly: `VALIDATION` (services re-address it to their field, e.g. `lineItems`). */
export function inexactAmount(message: string): CrmError<'VALIDATION'> {
  return new CrmError('VALIDATION', message, { issues: [{ path: [], code: 'too_big', message }] });
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw inexactAmount(`${what} exceeds the largest exact amount (${Number.MAX_SAFE_INTEGER} minor units)`);
  }
  return Number(value);
}

/**
 * Total of a line in minor units: quantity × unit price × (1 − discount%), rounded half-even once,
 * computed on integers (quantity in thousandths, discount in hundredths of a percent) so no float error creeps in.
 */
export function lineTotal(quantity: number, unitPrice: number, discountPercent = 0): number {
  if (!Number.isSafeInteger(unitPrice)) throw inexactAmount('unit prices are integer minor units');
  const qtyMilli = Math.round(quantity * 1000);
  const keepBasis = 10_000 - Math.round(discountPercent * 100); // hundredths of a percent kept
  const product = qtyMilli * unitPrice * keepBasis;
  if (Number.isSafeInteger(product)) return divideHalfEvenSafe(product, 10_000_000);
  const numerator = BigInt(qtyMilli) * BigInt(unitPrice) * BigInt(keepBasis);
  return toSafeNumber(divideHalfEven(numerator, 1000n * 10_000n), 'line total');
}

/** Sums integer amounts, refusing results that are no longer exact. */
export function sumAmounts(amounts: readonly number[]): number {
  let total = 0;
  for (const a of amounts) total += a;
  if (Number.isSafeInteger(total) && Math.abs(total) < 2 ** 52) return total;
  return toSafeNumber(amounts.reduce((acc, a) => acc + BigInt(a), 0n), 'total');
}

/** `amount × probability%`, rounded half-even, in minor units. */
export function weightedAmount(amount: number, probability: number): number {
  const basis = Math.round(probability * 100); // hundredths of a percent
  const product = amount * basis;
  if (Number.isSafeInteger(product)) return divideHalfEvenSafe(product, 10_000);
  return toSafeNumber(divideHalfEven(BigInt(amount) * BigInt(basis), 10_000n), 'weighted amount');
}

/** Money helper: `money(1999, 'EUR')`. */
export function money(amount: number, currency: string): Money {
  return { amount, currency };
}

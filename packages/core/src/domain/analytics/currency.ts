import { divideHalfEven, inexactAmount } from '../money.js';
import { minorUnitExponent } from '../iso-4217.js';

/** Exchange rates: how many units of `base` one unit of each currency is worth. */
export interface ExchangeRates {
  readonly base: string;
  readonly rates: Readonly<Record<string, number>>;
}

const RATE_SCALE = 1_000_000_000n; // rates kept to nine decimals, so conversion stays integer arithmetic

/**
 * Converts an amount in minor units of `currency` into minor units of `rates.base`, rounding half-even.
 * Returns `undefined` when no rate is known.
 */
export function convertMinor(amount: number, currency: string, rates: ExchangeRates): number | undefined {
  if (currency === rates.base) return amount;
  const rate = rates.rates[currency];
  if (rate === undefined || !Number.isFinite(rate) || rate <= 0) return undefined;
  const scaledRate = BigInt(Math.round(rate * Number(RATE_SCALE)));
  const from = minorUnitExponent(currency);
  const to = minorUnitExponent(rates.base);
  let numerator = BigInt(amount) * scaledRate;
  let denominator = RATE_SCALE;
  if (to >= from) numerator *= 10n ** BigInt(to - from);
  else denominator *= 10n ** BigInt(from - to);
  return Number(divideHalfEven(numerator, denominator));
}

/**
 * Converts minor units of `from` into minor units of `to` at `rate` (units of `to` per unit of `from`,
 * major units), with the ISO 4217 decimals of both and half-even rounding, in integer arithmetic.
 *
 * @example
 * convertAmount(1500, 'KWD', 'JPY', 490.5) // KWD 1.500 → JPY 736 (735.75 rounded)
 */
export function convertAmount(amount: number, from: string, to: string, rate: number): number {
  if (from === to) return amount;
  const converted = convertMinor(amount, from, { base: to, rates: { [from]: rate } });
  if (converted === undefined) throw inexactAmount(`no usable rate from ${from} to ${to}`);
  return converted;
}

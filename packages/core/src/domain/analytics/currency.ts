import { divideHalfEven } from '../money.js';

const exponents = new Map<string, number>();

/** Decimal places of a currency's minor unit (EUR 2, JPY 0, KWD 3), from the platform's ISO 4217 data. */
export function minorUnitExponent(currency: string): number {
  let exponent = exponents.get(currency);
  if (exponent === undefined) {
    try {
      exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      exponent = 2;
    }
    exponents.set(currency, exponent);
  }
  return exponent;
}

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

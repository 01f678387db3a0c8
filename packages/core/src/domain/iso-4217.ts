/**
 * ISO 4217 currency codes and the decimals of their minor unit, as the standard's List One gives them
 * (current codes, funds codes and the codes withdrawn since 2023 that stored data may still carry).
 * A fixed table rather than `Intl`: CLDR's display digits differ from ISO for HUF, COP, IDR, PKR, IQD,
 * IRR, RSD and others, and an amount converted with the wrong exponent is off by 100× or 1000×.
 */

/** Codes whose minor unit has no decimals (JPY, KRW, …) or that have no minor unit at all (XAU, XDR, …). */
const ZERO = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX';
/** Three decimals: the dinars and the rial of Oman. */
const THREE = 'BHD IQD JOD KWD LYD OMR TND';
/** Four decimals: the Chilean and Uruguayan units of account. */
const FOUR = 'CLF UYW';
/** Two decimals: every other code. */
const TWO =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW ' +
  'CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF ' +
  'IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV ' +
  'MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD ' +
  'SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL';

const EXPONENTS: ReadonlyMap<string, number> = new Map([
  ...ZERO.split(' ').map((c) => [c, 0] as const),
  ...TWO.split(' ').map((c) => [c, 2] as const),
  ...THREE.split(' ').map((c) => [c, 3] as const),
  ...FOUR.split(' ').map((c) => [c, 4] as const),
]);

/**
 * True for an ISO 4217 code crmkit knows (`EUR`, `JPY`, `KWD`, …).
 *
 * @example
 * isIsoCurrency('EUR') // true
 * isIsoCurrency('EURO') // false
 */
export function isIsoCurrency(code: string): boolean {
  return EXPONENTS.has(code);
}

/**
 * Decimal places of a currency's minor unit per ISO 4217: EUR 2, JPY 0, KWD 3, CLF 4, HUF 2, IQD 3.
 *
 * @param currency An ISO 4217 code.
 * @returns The exponent; 2 for a code outside the table (crmkit refuses such codes on input, so
 * only data stored by other means can carry one).
 * @example
 * minorUnitExponent('KWD') // 3: 1500 minor units are KWD 1.500
 */
export function minorUnitExponent(currency: string): number {
  return EXPONENTS.get(currency) ?? 2;
}

const FNV_OFFSET = 0x6c62272e07bb014262b821756295c58dn;
const FNV_PRIME = 0x0000000001000000000000000000013bn;
const MASK = (1n << 128n) - 1n;
const utf8 = new TextEncoder();

/**
 * A name for a prepared statement, derived from its text: adapters that share a connection (one per
 * schema) never give one name two texts. 128-bit FNV-1a over the UTF-8 bytes — plain arithmetic
 * rather than `node:crypto`, so the PostgreSQL engine also runs in browsers (PGlite); it only has to
 * spread texts apart, not resist an attacker (the texts are our own SQL).
 *
 * @param text The statement's SQL.
 * @returns `crmkit_` and 32 hex digits.
 * @example
 * statementName('SELECT 1'); // 'crmkit_…'
 */
export function statementName(text: string): string {
  let hash = FNV_OFFSET;
  for (const byte of utf8.encode(text)) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK;
  return `crmkit_${hash.toString(16).padStart(32, '0')}`;
}

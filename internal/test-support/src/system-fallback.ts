/**
 * `CRMKIT_NO_SYSTEM_FALLBACK=1` makes the test support use only what npm installed (and the explicit
 * `CRMKIT_*` variables): the way to prove that a bare machine with only Node passes the tests.
 */
export function systemFallbackAllowed(): boolean {
  const value = process.env.CRMKIT_NO_SYSTEM_FALLBACK;
  return value === undefined || value === '' || value === '0' || value === 'false';
}

import { validationError } from '../errors/crm-error.js';

/**
 * Refuses a locale that is no BCP 47 tag (`de_DE`) or one the runtime has no number data for (`zz-QQ`),
 * so numbers and dates are never read or written in a locale silently swapped for another.
 *
 * @param locale The `locale` option as given.
 * @param context The call named in the error (`import.run`, `export.run`).
 * @returns Nothing; throws CrmError `VALIDATION` (`invalid_value` at `locale`) for such a locale.
 * @example
 * checkLocale('de-DE', 'export.run');
 */
export function checkLocale(locale: unknown, context: string): void {
  let message: string | undefined;
  try {
    if (Intl.NumberFormat.supportedLocalesOf([locale as string]).length === 0) message = `this runtime has no data for locale ${String(locale).slice(0, 50)}`;
  } catch {
    message = 'must be a BCP 47 locale such as de-DE';
  }
  if (message) throw validationError(context, [{ path: ['locale'], code: 'invalid_value', message }]);
}

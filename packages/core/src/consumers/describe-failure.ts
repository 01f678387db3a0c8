/** Longest failure description kept (characters, before the ellipsis). */
export const MAX_FAILURE_TEXT = 1000;

/** Said when nothing about a thrown value can be turned into text. */
const UNDESCRIBABLE = 'the handler failed with a value that cannot be described';

/** Runs `describe`, giving undefined when it throws or yields no text (a getter, toJSON or toString may throw). */
function attempt(describe: () => unknown): string | undefined {
  try {
    const text = describe();
    return typeof text === 'string' && text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A short text for the log of a handler failure. Handlers throw anything — a BigInt, a circular
 * object, an object whose `toJSON`, `toString` or `message` getter throws, a revoked proxy — and a
 * failure must be recorded whatever was thrown, so this never throws: it tries the error's name and
 * message (with its cause's code and message: `TypeError: fetch failed (connect ECONNREFUSED …)`),
 * then JSON, then `String()`, then a fixed text, and cuts the result to `MAX_FAILURE_TEXT` characters.
 *
 * @param error The thrown (or rejected) value.
 * @returns 1–1001 characters.
 * @example
 * describeFailure(new TypeError('bad')); // 'TypeError: bad'
 * describeFailure(5n); // '5'
 */
export function describeFailure(error: unknown): string {
  const text =
    attempt(() => {
      if (!(error instanceof Error)) return undefined;
      const message = String(error.message);
      const name = String(error.name);
      const text = name === 'Error' || name === '' ? message : `${name}: ${message}`;
      // A network failure's reason is in its cause (fetch says only "fetch failed"): its code and message.
      const cause = attempt(() => {
        const { code = '', message: said = '' } = (error as { cause: { code?: unknown; message?: unknown } }).cause;
        const [c, m] = [String(code), String(said)];
        return m.includes(c) ? m : m ? `${c}: ${m}` : c;
      });
      return cause ? `${text} (${cause})` : text;
    }) ??
    (typeof error === 'string' && error.length > 0 ? error : undefined) ??
    attempt(() => (typeof error === 'object' && error !== null ? JSON.stringify(error) : undefined)) ??
    attempt(() => String(error)) ??
    UNDESCRIBABLE;
  return text.length > MAX_FAILURE_TEXT ? `${text.slice(0, MAX_FAILURE_TEXT)}…` : text;
}

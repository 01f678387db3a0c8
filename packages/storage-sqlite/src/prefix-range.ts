/**
 * The smallest string greater than every string that starts with `prefix`, in code-point order, or
 * `undefined` when there is none (the prefix is all U+10FFFF). `prefix` matching then becomes the index
 * range `value >= prefix AND value < upper`: exact, case-sensitive, with `%` and `_` taken literally
 * (LIKE would treat them as wildcards and, in SQLite, ignore case).
 *
 * @example
 * prefixUpperBound('Al') // 'Am'
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0 && points[points.length - 1] === 0x10ffff) points.pop();
  if (points.length === 0) return undefined;
  let last = points[points.length - 1]! + 1;
  // Surrogate code points have no UTF-8 form: the next code point after U+D7FF is U+E000.
  if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
  points[points.length - 1] = last;
  return String.fromCodePoint(...points);
}

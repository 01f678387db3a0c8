import type { MergeLink } from '../schema/merge.js';

/** `value` without any mention of `hidden` ids: a string naming one (`ctc_…`, `contact:ctc_…`) becomes null, array entries naming one are left out. */
function conceal(value: unknown, hidden: ReadonlySet<string>): unknown {
  const names = (s: string) => hidden.has(s) || hidden.has(s.slice(s.indexOf(':') + 1));
  if (typeof value === 'string') return names(value) ? null : value;
  if (Array.isArray(value)) return value.filter((v) => !(typeof v === 'string' && names(v))).map((v) => conceal(v, hidden));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, conceal(v, hidden)]));
  return value;
}

/**
 * The merge log's links as a view may see them: `from` (the value before the merge) names the
 * duplicates the link pointed to, so ids of duplicates the view cannot read are taken out of it.
 */
export function concealHiddenDuplicates(links: readonly MergeLink[], hidden: ReadonlySet<string>): MergeLink[] {
  if (hidden.size === 0) return [...links];
  return links.map((l) => ({ ...l, from: conceal(l.from, hidden) }));
}

import { compareValues } from '../../query/compare.js';
import type { CursorPosition } from '../../query/cursor.js';
import { getPath } from '../../query/path.js';
import type { Filter, Scalar, SortSpec } from '../../query/query-spec.js';
import { compareKeys, encodeString, encodeValue, FLOOR, HIGH, ODD, prefixEnd, type Key } from './key-encoding.js';
import type { KeySource, StoredRecord, StoreLayout } from './index-layout.js';

/** A range of keys, as IndexedDB's `IDBKeyRange.bound(lower, upper, lowerOpen, upperOpen)`. */
export interface KeyRange {
  readonly lower: Key;
  readonly upper: Key;
  readonly lowerOpen?: boolean;
  readonly upperOpen?: boolean;
}

/**
 * How to read the candidates of a query: which key source, which key ranges, in which direction.
 * Candidates are a superset of the matching rows; the executor always applies `matchFilter`.
 */
export interface Plan {
  readonly source: KeySource;
  /** Disjoint key ranges, read one after the other; empty when nothing can match. */
  readonly ranges: readonly KeyRange[];
  readonly direction: 'next' | 'prev';
  /**
   * How many key components after the fixed prefix follow the requested sort order (0: none).
   * Records with equal such components form a group; groups come in sort order, so a page may
   * stop after `limit + 1` matches once the group changes.
   */
  readonly ordered: number;
  /** A record can come up in several ranges (multi-entry index with several values). */
  readonly dedupe: boolean;
  /** The ranges hold exactly the matching rows, each once: counting them answers a count. */
  readonly exact: boolean;
  /** Raw values of the fields that the ranges fix to one value. */
  readonly fixed: ReadonlyMap<string, Scalar | null>;
  /** The key of `record` in the source, within range number `range` (to resume batched reads). */
  keyOf(record: StoredRecord, range: number): Key;
  /** The sort-group key of `record` (`ordered` components). */
  group(record: StoredRecord): Key[];
}

interface Points {
  readonly keys: Key[];
  readonly exact: boolean;
  readonly value: Scalar | null | undefined;
  readonly conjunct: Filter;
}

interface Bounds {
  readonly lo: Key;
  readonly hi: Key;
  readonly hiOpen: boolean;
}

type Leaf = Exclude<Filter, { op: 'and' | 'or' }>;

function conjunctsOf(filter: Filter | undefined, out: Filter[] = []): Filter[] {
  if (filter?.op === 'and') for (const f of filter.filters) conjunctsOf(f, out);
  else if (filter) out.push(filter);
  return out;
}

function boundsOf(c: Leaf): Bounds | undefined {
  if (!('value' in c) || c.op === 'eq') return undefined;
  const v = c.value;
  const below = c.op === 'lt' || c.op === 'lte';
  // Bounds are inclusive (the residual filter decides strictness) and stay inside the value's type:
  // number keys lie in [FLOOR, ''), string keys in ['', ODD).
  if (typeof v === 'number' && c.op !== 'prefix') return below ? { lo: FLOOR, hi: encodeValue(v), hiOpen: false } : { lo: encodeValue(v), hi: '', hiOpen: true };
  if (typeof v !== 'string') return undefined;
  const e = encodeString(v);
  if (c.op === 'prefix') return { lo: e, hi: prefixEnd(e) ?? ODD, hiOpen: true };
  return below ? { lo: '', hi: e, hiOpen: false } : { lo: e, hi: ODD, hiOpen: true };
}

/** Distinct keys (encoded values are numbers, strings or `[]`; -0 and 0 are the same key). */
const uniqueKeys = (keys: Key[]) => [...new Map(keys.map((key) => [typeof key + String(key), key])).values()];

/**
 * Chooses how to answer a query from one store of an ordered key-value engine (IndexedDB): the key source whose leading fields are fixed by
 * `eq`/`in` conditions of the top-level `and` (tenant first, always), a range for the next field
 * (`lt`/`lte`/`gt`/`gte`/`prefix`), and, when the sort follows the source's key order, a walk in that
 * order that can stop early. `containsAny` uses a multi-entry index. A sparse index is considered
 * only when the filter requires each of its sparse fields to hold a value. Without any of these, the
 * tenant's part of the primary key is scanned.
 */
export function planQuery(
  store: StoreLayout,
  tenantId: string,
  filter: Filter | undefined,
  sort: readonly SortSpec[],
  limit: number | undefined,
  position: CursorPosition | undefined,
): Plan {
  const types = store.types;
  const points = new Map<string, Points>();
  const bounds = new Map<string, Bounds>();
  const lists = new Map<string, readonly string[]>();
  const constants = new Map<string, Scalar | null>();
  // Fields the filter requires to hold a value (equality without null, ranges): sparse indexes over them are complete.
  const present = new Set<string>();
  const conjuncts = conjunctsOf(filter);
  for (const c of conjuncts) {
    if ('filters' in c) continue;
    const type = types[c.field];
    if (!type) continue;
    if (c.op === 'containsAny') {
      const prev = lists.get(c.field);
      if (!prev || c.values.length < prev.length) lists.set(c.field, c.values);
    } else if (c.op === 'eq' || c.op === 'in') {
      if (type === 'string[]') continue;
      const values = c.op === 'eq' ? [c.value] : c.values;
      if (values.every((v) => v != null)) present.add(c.field);
      if (values.length === 1 && !constants.has(c.field)) constants.set(c.field, values[0]!);
      if (values.length > 32) continue; // too many points to read one by one
      const keys = uniqueKeys(values.map(encodeValue));
      const exact = values.every((v) => typeof v !== 'number' || v > FLOOR);
      const prev = points.get(c.field);
      if (!prev || keys.length < prev.keys.length) points.set(c.field, { keys, exact, value: values[0], conjunct: c });
    } else {
      present.add(c.field);
      const b = boundsOf(c);
      const prev = bounds.get(c.field);
      if (!b) continue;
      // Several ranges on one field: their intersection.
      const hi = prev ? compareKeys(prev.hi, b.hi) : 1;
      bounds.set(c.field, {
        lo: prev && compareKeys(prev.lo, b.lo) > 0 ? prev.lo : b.lo,
        hi: hi < 0 ? prev!.hi : b.hi,
        hiOpen: hi < 0 ? prev!.hiOpen : b.hiOpen || (hi === 0 && prev!.hiOpen),
      });
    }
  }

  const rangeOf = (lower: Key, upper: Key, upperOpen: boolean): KeyRange | undefined => {
    const c = compareKeys(lower, upper);
    return c < 0 || (c === 0 && !upperOpen) ? { lower, upper, upperOpen } : undefined;
  };

  let best: Plan | undefined;
  let bestScore = -1;

  for (const source of [store.primary, ...store.indexes]) {
    if (source.sparse?.some((f) => !present.has(f))) continue;
    if (source.multi) {
      // A multi-entry index holds the list values themselves, for every tenant: read with a cursor,
      // other tenants' rows are dropped by the executor.
      const values = lists.get(source.fields[0]!);
      if (!values) continue;
      const keys = [...new Set(values)];
      const score = keys.length === 0 ? 1e9 : 9;
      if (score <= bestScore) continue;
      bestScore = score;
      best = { source, ranges: keys.map((v) => ({ lower: v, upper: v })), direction: 'next', ordered: 0, dedupe: keys.length > 1, exact: false, fixed: new Map(), keyOf: () => [], group: () => [] };
      continue;
    }

    // Leading fields fixed to points (`eq`, `in`: at most 32 combinations).
    let prefixes: Key[][] = [[tenantId]];
    let k = 0;
    let exact = true;
    const used = new Set<Filter>();
    const fixed = new Map<string, Scalar | null>();
    for (const field of source.fields) {
      const p = points.get(field);
      if (!p || prefixes.length * p.keys.length > 32) break;
      prefixes = prefixes.flatMap((pre) => p.keys.map((key) => [...pre, key]));
      used.add(p.conjunct);
      exact &&= p.exact;
      if (p.keys.length === 1 && p.value !== undefined) fixed.set(field, p.value);
      k++;
    }
    const next = source.fields[k];
    const b = next === undefined ? undefined : bounds.get(next);

    // Does the sort follow the key order after the fixed prefix? Constant fields do not sort.
    let s = sort.filter((key) => !constants.has(key.field));
    const idAt = s.findIndex((key) => key.field === 'id');
    s = idAt >= 0 ? s.slice(0, idAt + 1) : [...s, { field: 'id' }];
    const desc = s[0]!.direction === 'desc';
    let ordered = 0;
    if (prefixes.length === 1) {
      while (ordered < s.length && s[ordered]!.field === source.fields[k + ordered] && (s[ordered]!.direction === 'desc') === desc) ordered++;
    }

    const score =
      prefixes.length === 0 ? 1e9 : (source.name === undefined && k > 0 ? 1000 : k * 10) + (b ? 5 : 0) + (ordered ? (limit === undefined ? 1 : 6) : 0) + (source.name === undefined ? 0.5 : 0);
    if (score <= bestScore) continue;

    const ranges: KeyRange[] = [];
    for (const pre of prefixes) {
      let lower: Key = b ? [...pre, b.lo] : pre;
      let upper: Key = b ? (b.hiOpen ? [...pre, b.hi] : [...pre, b.hi, HIGH]) : [...pre, HIGH];
      let upperOpen = b?.hiOpen ?? false;
      // Start an ordered walk at the cursor position, unless the cursor disagrees with a constant.
      if (position && ordered && sort.every((key, i) => !constants.has(key.field) || compareValues(position.values[i], constants.get(key.field)) === 0)) {
        const tuple = s.slice(0, ordered).map((key) => {
          const at = sort.findIndex((sk) => sk.field === key.field);
          return encodeValue(at < 0 ? position.id : position.values[at]);
        });
        if (!desc && compareKeys([...pre, ...tuple], lower) > 0) lower = [...pre, ...tuple];
        if (desc && compareKeys([...pre, ...tuple, HIGH], upper) < 0) {
          upper = [...pre, ...tuple, HIGH];
          upperOpen = false;
        }
      }
      const range = rangeOf(lower, upper, upperOpen);
      if (range) ranges.push(range);
    }
    bestScore = score;
    const parts = source.fields.map((field) => (r: StoredRecord) => getPath(r, field) as Key);
    best = {
      source,
      ranges,
      direction: desc && ordered ? 'prev' : 'next',
      ordered,
      dedupe: false,
      exact: exact && conjuncts.every((c) => used.has(c)),
      fixed,
      keyOf: (r) => [r.tenantId, ...parts.map((part) => part(r))],
      group: (r) => parts.slice(k, k + ordered).map((part) => part(r)),
    };
  }
  return best!;
}

import { deepEqual, produce, type Draft } from './draft.js';
import type { RecordBase } from '../schema/record.js';
import type { FieldChanges } from '../events/event-map.js';
import { withExternalKeys } from './external-keys.js';

/** The base fields of a new record. */
export function newRecordBase(id: string, tenantId: string, now: string): RecordBase {
  return { id, tenantId, version: 1, createdAt: now, updatedAt: now };
}

/**
 * A shallow copy of a stored record about to be revised: its fields, in order. Not `{ ...record }`: V8
 * gives a spread copy a hidden class it cannot reuse when the copy is frozen (every written record is)
 * or gains a field — about 1 µs a deal (issue 17). Records are plain JSON objects without a "__proto__" key.
 */
export function copyRecord<T extends object>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const key in record) out[key] = (record as Record<string, unknown>)[key];
  return out as T;
}

/** Drops keys whose value is `undefined`, so stored documents never carry them. */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

/** A copy of `value` without `keys` (stored documents drop fields instead of holding `undefined`). */
export function without<T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> {
  const out = { ...value };
  for (const key of keys) delete out[key];
  return out;
}

/**
 * Produces the next immutable version of a record: applies `recipe` to a draft, bumps `version` and
 * `updatedAt`. Returns the same object when the recipe changed nothing, so callers can skip the write.
 */
export function reviseRecord<T extends RecordBase>(record: T, now: string, recipe: (draft: Draft<T>) => void): T {
  const changed = produce(record, recipe);
  if (changed === record) return record;
  // `changed` is already a new object (the recipe edited a copy): set the bookkeeping on a
  // copy of it instead of a second produce.
  // External keys follow the refs here, so every revised record is consistent before anyone reads it.
  return withExternalKeys(Object.assign(copyRecord(changed), { version: record.version + 1, updatedAt: now }));
}

/**
 * Applies a patch to a draft: `null` deletes the field, `undefined` leaves it alone, anything else sets it.
 */
export function applyPatch(draft: Record<string, unknown>, patch: Readonly<Record<string, unknown>>, keys: readonly string[]): void {
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(patch, key)) continue;
    const value = patch[key];
    if (value === undefined) continue;
    if (value === null) delete draft[key];
    else if (!deepEqual(draft[key], value)) draft[key] = value;
  }
}

/** Field-level differences between two versions of a record, skipping bookkeeping fields. */
export function diffRecords(before: object, after: object, ignore: readonly string[] = []): FieldChanges {
  const skip = new Set(['version', 'updatedAt', 'searchKeys', 'externalKeys', ...ignore]);
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (skip.has(key)) continue;
    const from = (before as Record<string, unknown>)[key];
    const to = (after as Record<string, unknown>)[key];
    if (!deepEqual(from, to)) changes[key] = { from, to };
  }
  return changes;
}

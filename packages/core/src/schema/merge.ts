import type { RecordBase } from './record.js';

/** The card kinds that can be merged. */
export type MergeEntity = 'lead' | 'contact' | 'company';

/**
 * One link the merge re-pointed from a duplicate to the survivor: the field `field` of the record
 * `entity`/`id` held `from` before the merge (an id, or the whole list for `refs` and
 * `participants`); `versionAfter` is the record's version the merge left, which undo requires.
 */
export interface MergeLink {
  readonly entity: string;
  readonly id: string;
  /** A field path: `contactId`, `converted.contactId`, `participants` (activities), `refs` (events). */
  readonly field: string;
  readonly from: unknown;
  readonly versionAfter: number;
}

/**
 * The merge log entry of one merge (`crm.merges.get`): what the records were, what was re-pointed,
 * and whether the merge was undone. Snapshots are the stored records as they were before the merge.
 */
export interface MergeRecord<T extends RecordBase = RecordBase> extends RecordBase {
  readonly entity: MergeEntity;
  readonly survivorId: string;
  /** The merged records' ids, in the order given. */
  readonly duplicateIds: readonly string[];
  /** `merged`, or `undone` once `crm.merges.undo` restored the records. */
  readonly status: 'merged' | 'undone';
  /** Who merged (the acting user), when known. */
  readonly actorId?: string;
  /** Where each field of the survivor that changed came from: field path → record id. */
  readonly fields: Readonly<Record<string, string>>;
  /** The survivor before the merge. */
  readonly survivorBefore: T;
  /** The survivor's version the merge left (undo requires it unchanged). */
  readonly survivorVersionAfter: number;
  /** The duplicates as they were, each a full stored record. */
  readonly duplicates: readonly T[];
  /** Every link re-pointed from a duplicate to the survivor. */
  readonly links: readonly MergeLink[];
  readonly undoneAt?: string;
  readonly undoneBy?: string;
  /**
   * Set by the undo: every record it wrote back, whose content is again that of version `from` (the
   * version before the merge), now stored as version `to`. An earlier merge's undo reads these, so
   * merges can be undone in reverse order.
   */
  readonly restored?: readonly RestoredVersion[];
}

/** A record an undo wrote back: the content of version `from` again, stored as version `to`. */
export interface RestoredVersion {
  readonly entity: string;
  readonly id: string;
  readonly from: number;
  readonly to: number;
}

/** What a merge returns: the survivor as stored now and the merge log entry (its id undoes it). */
export interface MergeResult<T extends RecordBase> {
  readonly survivor: T;
  readonly merge: MergeRecord<T>;
}

/** What an undo returns: the restored survivor and duplicates, and the log entry, now `undone`. */
export interface UndoResult<T extends RecordBase = RecordBase> {
  readonly survivor: T;
  readonly duplicates: readonly T[];
  readonly merge: MergeRecord<T>;
}

/**
 * Options of a merge.
 *
 * - `fields`: which record each field of the survivor takes its value from: a field name of the card
 *   (`email`, `phone`, `ownerId`, …) or `custom.<key>` → a duplicate's id, or `'survivor'` (the
 *   default). The chosen record's value is taken as it is, an absent value included.
 * - `fillEmpty`: fields the survivor has no value for (and `fields` does not name) take the first
 *   duplicate's value that is set (default `false`: the survivor's values are kept).
 * - `version`: the survivor's expected version (`CONFLICT` otherwise).
 *
 * Tags are always the union; external refs always move to the survivor.
 */
export interface MergeOptions {
  readonly fields?: Readonly<Record<string, string>>;
  readonly fillEmpty?: boolean;
  readonly version?: number;
}

/** Options of `crm.merges.list`. */
export interface MergeListOptions {
  /** Only merges into this survivor. */
  readonly survivorId?: string;
  /** Page size, 1–1000 (default 50). */
  readonly limit?: number;
  readonly cursor?: string;
}

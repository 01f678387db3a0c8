import type { Row, StorageTx, WriteOp } from '@crmkit/core/storage';
import { changeKey } from '../protocol/synced-entities.js';

/** Most tags in one pack: a pull page of 1 000 rows fills one, so an initial sync writes one tag row per page. */
export const PACK_SIZE = 1000;

/**
 * A `syncTag` row (design sync.md §21): the exit tags of up to `PACK_SIZE` received records of one
 * reset epoch; each entry is the 16-character tag followed by `entity:recordId`.
 */
export interface TagPack extends Row {
  readonly entity: '';
  readonly recordId: '';
  readonly epoch: number;
  readonly entries: readonly string[];
}

/** A record the device holds under an exit tag. */
export interface HeldRecord {
  readonly entity: string;
  readonly id: string;
}

/** The device's exit tags in memory (`loadTags`); changes are written by `flush`, in the caller's transaction. */
export interface TagIndex {
  /** The record held under `tag`, if any. */
  find(tag: string): HeldRecord | undefined;
  /** Holds `tag` → `key` (`entity:recordId`) at `epoch`; nothing to write when it already is. */
  put(tag: string, key: string, epoch: number): void;
  /** Forgets `tag`; returns the record it held. */
  drop(tag: string): HeldRecord | undefined;
  /** The end of a reset: forgets every tag of an older epoch; returns the records left without a tag of `epoch` (they left the scope). */
  sweep(epoch: number): HeldRecord[];
  /** Writes the changed packs (an emptied one is deleted) and deletes the per-record rows moved into packs. */
  flush(tx: StorageTx, tenantId: string): Promise<void>;
}

/** A pack in memory: `id` unset until first written; `tags` maps tag → `entity:recordId`. */
interface Pack {
  id?: string;
  version: number;
  readonly epoch: number;
  readonly tags: Map<string, string>;
}

type OldTagRow = Row & { readonly entity: string; readonly recordId: string; readonly epoch: number };

const held = (key?: string): HeldRecord | undefined => {
  const at = key?.indexOf(':');
  return key ? { entity: key.slice(0, at), id: key.slice(at! + 1) } : undefined;
};

/**
 * Reads every tag pack of the device (records ÷ `PACK_SIZE` rows) into memory. Rows of the per-record
 * form (one row per tag, id = the tag: devices synced before packs) are read as tags and moved into
 * packs by the next `flush`.
 */
export async function loadTags(tx: StorageTx, tenantId: string): Promise<TagIndex> {
  const packs: Pack[] = [];
  const byTag = new Map<string, Pack[]>();
  const changed = new Set<Pack>();
  const old: OldTagRow[] = [];
  const link = (tag: string, pack: Pack) => void (byTag.get(tag) ?? byTag.set(tag, []).get(tag)!).push(pack);
  const index: TagIndex = {
    find: (tag) => held(byTag.get(tag)?.[0]?.tags.get(tag)),
    put(tag, key, epoch) {
      if (byTag.get(tag)?.some((p) => p.epoch === epoch)) return;
      let pack = packs.filter((p) => p.epoch === epoch && p.tags.size < PACK_SIZE).pop();
      if (!pack) packs.push((pack = { version: 0, epoch, tags: new Map() }));
      pack.tags.set(tag, key);
      changed.add(pack);
      link(tag, pack);
    },
    drop(tag) {
      const record = index.find(tag);
      for (const pack of byTag.get(tag) ?? []) {
        pack.tags.delete(tag);
        changed.add(pack);
      }
      byTag.delete(tag);
      return record;
    },
    sweep(epoch) {
      const gone: HeldRecord[] = [];
      for (const pack of packs.filter((p) => p.epoch < epoch)) {
        for (const [tag, key] of pack.tags) {
          const rest = byTag.get(tag)!.filter((p) => p !== pack);
          if (rest.length) byTag.set(tag, rest);
          else {
            byTag.delete(tag);
            gone.push(held(key)!);
          }
        }
        pack.tags.clear();
        changed.add(pack);
      }
      return gone;
    },
    async flush(tx, tenantId) {
      const ops: WriteOp[] = old.splice(0).map((row) => ({ type: 'delete', id: row.id }));
      for (const pack of changed) {
        if (!pack.tags.size) {
          if (pack.id) ops.push({ type: 'delete', id: pack.id });
          packs.splice(packs.indexOf(pack), 1);
          continue;
        }
        pack.id ??= `pack:${await tx.nextSequence('syncTag', tenantId, 1)}`;
        const row: TagPack = { id: pack.id, tenantId, version: ++pack.version, entity: '', recordId: '', epoch: pack.epoch, entries: [...pack.tags].map(([tag, key]) => tag + key) };
        ops.push(pack.version > 1 ? { type: 'update', row, expectedVersion: pack.version - 1 } : { type: 'insert', row });
      }
      changed.clear();
      if (ops.length) await tx.write('syncTag', tenantId, ops);
    },
  };
  for (const row of (await tx.query('syncTag', tenantId, {})).rows as (TagPack | OldTagRow)[]) {
    if (!Array.isArray(row.entries)) old.push(row as OldTagRow);
    else {
      const pack: Pack = { id: row.id, version: row.version, epoch: row.epoch, tags: new Map((row as TagPack).entries.map((e) => [e.slice(0, 16), e.slice(16)])) };
      packs.push(pack);
      for (const tag of pack.tags.keys()) link(tag, pack);
    }
  }
  for (const row of old) index.put(row.id, changeKey(row.entity, row.recordId), row.epoch);
  return index;
}

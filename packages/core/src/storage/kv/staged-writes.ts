import { checkWriteVersion } from '../adapter-guards.js';
import type { RowMove } from '../aggregate-views.js';
import { frozenCopy } from '../deep-freeze.js';
import type { Change, Row, WriteOp } from '../storage-adapter.js';

/**
 * The writes of one transaction, staged in memory until commit — for engines whose transactions must
 * receive all writes at once (IndexedDB commits as soon as its caller awaits anything else). Reads
 * merge `of(entity, tenant)` over what is stored; version checks see earlier staged writes first.
 */
export class StagedWrites {
  /** entity → tenant → id → row (`null`: deleted), in write order per id. */
  readonly rows = new Map<string, Map<string, Map<string, Row | null>>>();
  /** The changes, in write order: the change batch after commit. */
  readonly changes: Change[] = [];
  /** Counters of `nextSequence` reserved in the transaction, by `tenantId \0 name`: the records to store at commit. */
  readonly sequences = new Map<string, { readonly tenantId: string; readonly name: string; readonly value: number }>();

  /**
   * Reserves `count` numbers of a counter, after those reserved earlier in the transaction or, on the
   * first reservation, after the stored value (`load`; `undefined`: 0). The engine must keep other
   * writers off the counter until commit (a readwrite transaction over its store).
   *
   * @returns The first reserved number.
   */
  async reserve(tenantId: string, name: string, count: number, load: () => Promise<number | undefined>): Promise<number> {
    const key = `${tenantId}\u0000${name}`;
    // Reservations of one counter chain, so concurrent calls never hand out the same numbers.
    const prior = this.last.get(key) ?? load().then((value) => value ?? 0);
    this.last.set(key, prior.then((last) => last + count));
    const last = await prior;
    this.sequences.set(key, { tenantId, name, value: last + count });
    return last + 1;
  }

  private readonly last = new Map<string, Promise<number>>();

  /** The staged rows of one entity and tenant, if any. */
  of(entity: string, tenantId: string): Map<string, Row | null> | undefined {
    return this.rows.get(entity)?.get(tenantId);
  }

  /**
   * Checks each op against the row it replaces (staged earlier in the transaction, else `stored`),
   * then stages it and records its change.
   *
   * @param stored The stored rows of the ids the ops update or delete (inserts may be absent).
   * @returns Each op's row before and after, in order.
   * @throws CrmError `CONFLICT` on the first failed version check (`checkWriteVersion`).
   */
  stage(entity: string, tenantId: string, ops: readonly WriteOp[], stored: ReadonlyMap<string, Row>): RowMove[] {
    const byTenant = this.rows.get(entity) ?? this.rows.set(entity, new Map()).get(entity)!;
    const staged = byTenant.get(tenantId) ?? byTenant.set(tenantId, new Map()).get(tenantId)!;
    return ops.map((op) => {
      const id = op.type === 'delete' ? op.id : op.row.id;
      const before = staged.has(id) ? (staged.get(id) ?? undefined) : stored.get(id);
      checkWriteVersion(entity, op, before);
      // Staged reads and listeners get a frozen copy: the written row stays the caller's.
      const after = op.type === 'delete' ? undefined : frozenCopy(op.row);
      staged.set(id, after ?? null);
      this.changes.push(after ? { entity, tenantId, id, op: 'put', row: after } : { entity, tenantId, id, op: 'delete' });
      return [before, after] as const;
    });
  }
}

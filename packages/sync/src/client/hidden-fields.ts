import type { CrmEvent } from '@crmkit/core';
import { projectEventData, type EventProjector } from '@crmkit/core/access';
import type { Row, StorageTx, WriteOp } from '@crmkit/core/storage';

/** The fields the server hides from the user, by record entity (the pull's `hidden`). */
export type HiddenFields = Readonly<Record<string, readonly string[]>>;

/**
 * A device command read a field the server hides from this user, one that decides the command's outcome
 * (a deal's stage or status, a task's status…): the device cannot judge the command, the server does
 * (review13b B2). Not a `CrmError`: it never leaves the device.
 */
export class HiddenFieldRead extends Error {
  constructor(readonly entity: string, readonly field: string) {
    super(`reads ${entity}.${field}, which this user may not read`);
  }
}

type Fill = ((row: Row, currency: string) => unknown) | null;

const list: Fill = () => [];
const zero: Fill = () => 0;
const no: Fill = () => false;
const none: Fill = () => ({});
const created: Fill = (row) => row.createdAt;
const money: Fill = (_, currency) => ({ amount: 0, currency });
const BASE = { tags: list, custom: none };
const CARD = { ...BASE, searchKeys: list };

/**
 * The required fields of each record entity a service may read (design sync.md §24): a projected row
 * lacking one hides it from this user. A placeholder where its only effect is on fields the server hides
 * with it (`REVEALS`: a hidden value hides the weighted value and line items; a hidden stage entry the
 * rotting time), `null` where it decides the outcome: reading that field defers the command.
 */
export const REQUIRED: Readonly<Record<string, Readonly<Record<string, Fill>>>> = {
  deal: {
    ...BASE, title: null, pipelineId: null, stageKey: null, status: null, value: money, weightedValue: money, lineItems: list,
    probability: zero, probabilityManual: no, postponeCount: zero, stagePostponeCount: zero, stageEnteredAt: created, lastActivityAt: created,
  },
  lead: { ...CARD, name: null, status: null },
  contact: { ...CARD, name: null },
  company: { ...CARD, name: null },
  task: { subject: null, type: null, status: null, allDay: null, priority: () => 'normal', required: null, postponeCount: zero, reminders: list },
  activity: { kind: null, participants: list, occurredAt: created },
  stageVisit: { pipelineId: null, stageKey: null, enteredAt: created, postponeCount: zero },
};

/**
 * Optional fields core computes from a placeholdered one (core's `REVEALS`, which hides them with it): a
 * value computed from a placeholder is no value, so a write drops these too.
 */
export const DERIVED: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  deal: { stageEnteredAt: ['rottingSince'], lastActivityAt: ['rottingSince'] },
  task: { reminders: ['nextNotifyAt', 'recurrence'], priority: ['recurrence'] },
  activity: { participants: ['participantContactIds'] },
  stageVisit: { enteredAt: ['exitedAt', 'durationMs'] },
};

/**
 * The server's field rules for this user as the device knows them (the fields it hides): core's view
 * projection (`projectResult`, `projectEventData`) runs with them, so a device command's result and
 * events show the record as `crm.as(user)` would — without the hidden fields, never a placeholder
 * (review13c C1).
 */
export function fieldRules(hidden: HiddenFields): EventProjector {
  // `value.amount` → `value`, `custom.budget.amount` → `custom.budget` (core's topField).
  const hides = (entity: string, path: string) => !!hidden[entity]?.includes(path.split('.', path.startsWith('custom.') ? 2 : 1).join('.'));
  return {
    readable: (entity, field) => !hides(entity, field),
    hasFieldRules: (entity) => !!hidden[entity],
    reachesAll: () => true,
    project: (entity, record) => {
      let out: Record<string, unknown> | undefined;
      for (const field of hidden[entity] ?? []) {
        const [top, key] = field.startsWith('custom.') ? ['custom', field.slice(7)] : [field];
        const held = (out ?? record) as Record<string, unknown>;
        const custom = held.custom as Record<string, unknown> | undefined;
        if (key === undefined ? !(top in held) : !custom || !(key in custom)) continue;
        out ??= { ...held };
        if (key === undefined) delete out[top!];
        else {
          const kept = { ...custom };
          delete kept[key];
          out.custom = kept;
        }
      }
      return (out ?? record) as typeof record;
    },
  };
}

/** An event as the user may see it (`rules` from `fieldRules`). */
export const shownEvent = (event: CrmEvent, rules: EventProjector): CrmEvent => projectEventData(event, event.subjectType, rules, () => true);

/**
 * `tx` as a device command's services see it when the server hides fields of some entities from the
 * user (design sync.md §24, review13b B2): each row read lacking a required field (field rules
 * hide the same fields of every row of an entity) gets it as a placeholder, or as a getter that throws
 * `HiddenFieldRead` (at the service's first read or copy of the row). Rows of that entity written in the
 * command lose those fields and the ones core computes from them: a placeholder, or a value computed from
 * one, is never stored — the device shows the command's effect on the fields the user reads, the pull
 * the rest. Events it writes to the log are shown as the user may see them (`rules`).
 *
 * @param currency The currency of a hidden amount's placeholder (the crm's `defaultCurrency`).
 */
export function placeholderTx(tx: StorageTx, hidden: HiddenFields, currency: string, rules: EventProjector): StorageTx {
  /** Fields a write drops, by entity: hidden ones seen missing on a read, and those computed from them. */
  const dropped = new Map<string, Set<string>>();
  const fill = (entity: string, row: Row | undefined): Row | undefined => {
    const fields = hidden[entity] ? REQUIRED[entity] : undefined;
    if (!row || !fields) return row;
    const missing = Object.keys(fields).filter((f) => !(f in row));
    if (!missing.length) return row;
    const drop = dropped.get(entity) ?? new Set();
    dropped.set(entity, drop);
    const out = { ...row };
    for (const field of missing) {
      const make = fields[field]!;
      for (const f of [field, ...(DERIVED[entity]?.[field] ?? [])]) drop.add(f);
      // Enumerable: a service's copy of the row (`{ ...deal, … }`) keeps it; a getter throws at that copy already.
      Object.defineProperty(out, field, make ? { value: make(row, currency), writable: true, enumerable: true, configurable: true } : { get: () => { throw new HiddenFieldRead(entity, field); }, enumerable: true });
    }
    return out;
  };
  const strip = (drop: ReadonlySet<string>, op: WriteOp): WriteOp => {
    if (op.type === 'delete') return op;
    const row: Record<string, unknown> = {};
    for (const key of Object.keys(op.row)) if (!drop.has(key)) row[key] = op.row[key];
    return { ...op, row: row as Row };
  };
  const own: Partial<StorageTx> = {
    getMany: async (entity, tenantId, ids) => (await tx.getMany(entity, tenantId, ids)).map((row) => fill(entity, row)),
    query: async (entity, tenantId, spec) => {
      const out = await tx.query(entity, tenantId, spec);
      return { ...out, rows: out.rows.map((row) => fill(entity, row)!) };
    },
    write: (entity, tenantId, ops) => {
      const drop = dropped.get(entity);
      if (entity === 'event') ops = ops.map((op) => (op.type === 'insert' ? { ...op, row: shownEvent(op.row as unknown as CrmEvent, rules) as unknown as Row } : op));
      return tx.write(entity, tenantId, drop ? ops.map((op) => strip(drop, op)) : ops);
    },
  };
  return new Proxy(tx, {
    get: (target, key) => (own as Record<PropertyKey, unknown>)[key] ?? (Reflect.get(target, key) as (...a: unknown[]) => unknown)?.bind?.(target) ?? Reflect.get(target, key),
  });
}

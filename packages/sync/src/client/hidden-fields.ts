import type { CrmEvent } from '@crmkit/core';
import { projectEventData, type EventProjector } from '@crmkit/core/access';
import type { Row, StorageTx } from '@crmkit/core/storage';

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
      const drop = hidden[entity] ?? [];
      const r = record as Record<string, unknown>;
      if (!r || (!drop.length && !('parentOwner' in r) && !('parentShareKeys' in r))) return record;
      // Core's bookkeeping copies of a parent's owner and shares: a view never shows them (review13d D3).
      const { parentOwner: _o, parentShareKeys: _s, ...out } = r;
      for (const field of drop) {
        if (!field.startsWith('custom.')) delete out[field];
        else if (out.custom) {
          const { [field.slice(7)]: _, ...kept } = out.custom as Record<string, unknown>;
          out.custom = kept;
        }
      }
      return out as typeof record;
    },
  };
}

/** An event as the user may see it (`rules` from `fieldRules`). */
export const shownEvent = (event: CrmEvent, rules: EventProjector): CrmEvent => projectEventData(event, event.subjectType, rules, () => true);

/**
 * A readable field core derives from another entity's field in the commands of a service: when that field
 * is hidden, the device cannot compute it (a task command recomputes its deal's next step from due times
 * the rows lack) and keeps it as stored; the pull brings the server's (review13d D2).
 */
const DERIVED: Readonly<Record<string, readonly [string, string, string, string]>> = { tasks: ['deal', 'nextStepDueAt', 'task', 'dueAt'] };

/**
 * `tx` as a device command's services see it when the server hides fields of some entities from the
 * user (design sync.md §24, review13b B2): each row read lacking a required field (field rules hide the
 * same fields of every row of an entity) gets it as a placeholder, or as a getter that throws
 * `HiddenFieldRead` (at the service's first read or copy of the row). Every row written loses the
 * hidden fields (`rules`: the server's list holds those core computes from a hidden one too), and an
 * event written to the log is shown as the user may see it: a placeholder, or a value computed from
 * one, is never stored — the device shows the command's effect on the fields the user reads, the pull
 * the rest.
 *
 * A field derived from a hidden one (`DERIVED`) keeps its stored value.
 *
 * @param currency The currency of a hidden amount's placeholder (the crm's `defaultCurrency`).
 * @param service The command's service (`tasks` of `tasks.complete`).
 */
export function placeholderTx(tx: StorageTx, hidden: HiddenFields, currency: string, rules: EventProjector, service: string): StorageTx {
  const [on, field, of, from] = DERIVED[service] ?? [];
  const fill = (entity: string, row: Row | undefined): Row | undefined => {
    const fields = hidden[entity] ? REQUIRED[entity] : undefined;
    if (!row || !fields) return row;
    const missing = Object.keys(fields).filter((f) => !(f in row));
    if (!missing.length) return row;
    const out = { ...row };
    for (const field of missing) {
      const make = fields[field]!;
      // Enumerable: a service's copy of the row (`{ ...deal, … }`) keeps it; a getter throws at that copy already.
      Object.defineProperty(out, field, make ? { value: make(row, currency), writable: true, enumerable: true, configurable: true } : { get: () => { throw new HiddenFieldRead(entity, field); }, enumerable: true });
    }
    return out;
  };
  const shown = (entity: string, row: Row) => (entity === 'event' ? shownEvent(row as unknown as CrmEvent, rules) : rules.project(entity, row)) as unknown as Row;
  const own: Partial<StorageTx> = {
    getMany: async (entity, tenantId, ids) => (await tx.getMany(entity, tenantId, ids)).map((row) => fill(entity, row)),
    query: async (entity, tenantId, spec) => {
      const out = await tx.query(entity, tenantId, spec);
      return { ...out, rows: out.rows.map((row) => fill(entity, row)!) };
    },
    write: async (entity, tenantId, ops) => {
      const stored = entity === on && !rules.readable(of!, from!) ? await tx.getMany(entity, tenantId, ops.map((op) => (op.type === 'delete' ? op.id : op.row.id))) : [];
      return tx.write(entity, tenantId, ops.map((op, i) => {
        if (op.type === 'delete') return op;
        const row = { ...shown(entity, op.row) } as Record<string, unknown>;
        const before = stored[i];
        if (before) {
          delete row[field!];
          if (field! in before) row[field!] = before[field!];
        }
        return { ...op, row: row as Row };
      }));
    },
  };
  return new Proxy(tx, {
    get: (target, key) => (own as Record<PropertyKey, unknown>)[key] ?? (Reflect.get(target, key) as (...a: unknown[]) => unknown)?.bind?.(target) ?? Reflect.get(target, key),
  });
}

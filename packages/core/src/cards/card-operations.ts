import { validationError } from '../errors/crm-error.js';
import { applyPatch, compact, diffRecords, newRecordBase, reviseRecord } from '../domain/records.js';
import type { CrmEventMap } from '../events/event-map.js';
import type { CustomValues } from '../schema/custom-field.js';
import type { RecordBase } from '../schema/record.js';
import type { Operation, EventRef } from '../crm/operation.js';
import { checkReferences, type ReferenceCheck } from '../crm/references.js';
import { customValuesCheck } from '../crm/custom-values.js';
import { assertExpectedVersion } from '../crm/versioning.js';
import { inputFields } from '../crm/input-fields.js';

/** A client-card record: lead, contact or company. */
export interface CardRecord extends RecordBase {
  readonly custom: CustomValues;
  readonly searchKeys: readonly string[];
  readonly tags: readonly string[];
}

/**
 * What differs between the card entities; the create/update mechanics are shared so the rules
 * (custom fields, search keys, links, versions, events) cannot drift apart.
 */
export interface CardConfig<T extends CardRecord> {
  readonly entity: 'lead' | 'contact' | 'company';
  /** Fields a patch may change. */
  readonly editable: readonly string[];
  /** Links to check before writing. */
  readonly references: (input: Readonly<Record<string, unknown>>) => ReferenceCheck[];
  /** Whose duplicate-search keys the record gets (the duplicates feature computes them). */
  readonly kind: 'person' | 'company';
  /** Records whose timelines show this record's events. */
  readonly refs: (record: T) => (EventRef | undefined)[];
  /** Fields set on creation beyond the input (a lead's status). */
  readonly defaults?: (op: Operation) => Partial<T>;
  /** New records belong to the acting user unless the input names an owner (not for leads, which assignment routes). */
  readonly ownedByActor: boolean;
}

/** Creates a card from parsed input inside an operation. */
export async function createCard<T extends CardRecord>(
  op: Operation,
  config: CardConfig<T>,
  parsed: { readonly id?: string; readonly custom?: Record<string, unknown>; readonly tags?: readonly string[] } & Record<string, unknown>,
  context: string,
  /**
   * Access checks in a view: `scope` checks the new record against the `create` scope (off when the
   * caller checks it later); `fields` the input against the field rules (off for data crmkit composes).
   */
  checks: { readonly scope?: boolean; readonly fields?: boolean } = {},
): Promise<T> {
  if (checks.fields !== false) op.guard?.checkWriteFields(config.entity, inputFields(config.entity, parsed), context);
  await checkReferences(op, context, config.references(parsed));
  const { values, issues } = (await customValuesCheck(op, config.entity))(parsed.custom, undefined);
  if (issues.length) throw validationError(context, issues);
  const { id, custom: _custom, ...fields } = parsed;
  const draft = compact({
    ...newRecordBase(id ?? op.newId(config.entity), op.tenantId, op.now),
    ownerId: config.ownedByActor ? op.ctx.actor?.userId : undefined,
    ...fields,
    ...config.defaults?.(op),
    tags: parsed.tags ?? [],
    custom: values,
    searchKeys: [] as string[],
  }) as unknown as T;
  const duplicates = op.ctx.hooks.duplicates;
  const identity = duplicates && (await duplicates.identity(op));
  const record = { ...draft, searchKeys: duplicates && identity ? duplicates.keys(config.kind, draft, identity) : [] } as T;
  if (checks.scope !== false) op.guard?.checkWritten(config.entity, 'create', undefined, record);
  await op.insert(config.entity, record);
  const event = `${config.entity}.created` as keyof CrmEventMap;
  op.record(event, { type: config.entity, id: record.id }, { [config.entity]: record } as never, config.refs(record));
  return record;
}

/** Applies a parsed patch to a card; returns the stored record (unchanged when the patch changed nothing). */
export async function updateCard<T extends CardRecord>(
  op: Operation,
  config: CardConfig<T>,
  id: string,
  parsed: { readonly version?: number; readonly custom?: Record<string, unknown> } & Record<string, unknown>,
  context: string,
): Promise<T> {
  const record = await op.requireFor<T>(config.entity, id, 'update');
  assertExpectedVersion(config.entity, record, parsed.version);
  op.guard?.checkWriteFields(config.entity, inputFields(config.entity, parsed), context);
  await checkReferences(op, context, config.references(parsed));
  const { values, issues } = (await customValuesCheck(op, config.entity))(parsed.custom, record.custom);
  if (issues.length) throw validationError(context, issues);
  const duplicates = op.ctx.hooks.duplicates;
  const identity = duplicates && (await duplicates.identity(op));
  const next = reviseRecord(record, op.now, (draft) => {
    const target = draft as unknown as Record<string, unknown>;
    applyPatch(target, parsed, config.editable);
    applyPatch(target, { custom: values }, ['custom']);
    // Without the duplicates feature the stored keys are kept as they are.
    if (duplicates && identity) applyPatch(target, { searchKeys: duplicates.keys(config.kind, draft, identity) }, ['searchKeys']);
  });
  if (next === record) return record;
  op.guard?.checkWritten(config.entity, 'update', record, next);
  await op.update(config.entity, record, next);
  const event = `${config.entity}.updated` as keyof CrmEventMap;
  op.record(event, { type: config.entity, id: record.id }, { changes: diffRecords(record, next) } as never, config.refs(next));
  return next;
}

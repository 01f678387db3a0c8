import * as z from 'zod/mini';
import { conflict, CrmError, isCrmError, notFound, validationError } from '../errors/crm-error.js';
import { distinctRefs } from '../domain/external-keys.js';
import { externalIdSchema, externalKeyOf, externalRefsSchema, externalSystemSchema, type ExternalRef } from '../schema/external-ref.js';
import type { RecordBase } from '../schema/record.js';
import { runRead, runWrite, type Operation } from './operation.js';
import { parseInput } from './parse-input.js';
import { versionOptionSchema } from './versioning.js';

/** Options of `upsertByExternalRef`. */
export interface UpsertOptions {
  /**
   * The version the caller last read: `CONFLICT` when the record is at another version, or does not
   * exist (`actualVersion: null`). Without it the upsert applies to whatever is stored.
   */
  readonly expectedVersion?: number;
}

/** What `upsertByExternalRef` did. */
export interface UpsertResult<T> {
  readonly record: T;
  /** `created`: a new record; `updated`: the stored one changed; `unchanged`: it already said all of this (a retry). */
  readonly outcome: 'created' | 'updated' | 'unchanged';
}

/** How one entity's service creates and updates records inside an operation (see `upsertByExternalRef`). */
export interface ExternalRefTarget<T extends RecordBase> {
  readonly entity: string;
  /** `contacts`: the prefix of error contexts. */
  readonly name: string;
  /** Parses the input as `create` would (throws `VALIDATION`). */
  parseCreate(input: unknown, context: string): { readonly externalRefs?: readonly ExternalRef[] } & Record<string, unknown>;
  create(op: Operation, parsed: Record<string, unknown>): Promise<T>;
  /** `update`'s input schema; absent for records that never change (activities): a found record is returned as it is. */
  readonly updateSchema?: z.ZodMiniObject;
  update?(op: Operation, id: string, patch: Record<string, unknown>): Promise<T>;
}

const refArgs = z.strictObject({ system: externalSystemSchema, id: externalIdSchema });
const upsertOptions = z.strictObject({ expectedVersion: versionOptionSchema });
const keptRefs = z.strictObject({ externalRefs: externalRefsSchema });

/** Validates `(system, id)` arguments. @throws CrmError `VALIDATION` at `system` / `id`. */
export function parseExternalRef(system: unknown, id: unknown, context: string): ExternalRef {
  return parseInput(refArgs, { system, id }, context);
}

/** The record of `entity` holding the external ref, whoever may read it (`undefined` when none does). */
export async function findByExternalRef<T extends RecordBase>(op: Operation, entity: string, ref: ExternalRef): Promise<T | undefined> {
  const { rows } = await op.query<T>(entity, { filter: { op: 'containsAny', field: 'externalKeys', values: [externalKeyOf(ref)] }, limit: 1 });
  return rows[0];
}

/**
 * Reads the record of `entity` linked to `(system, id)`.
 *
 * @throws CrmError `VALIDATION` for a malformed system or id; `NOT_FOUND` (`details.id`: `system:id`)
 *   when no record holds it or, in a view, the record lies outside the principal's read scope.
 */
export async function getByExternalRef<T extends RecordBase>(op: Operation, entity: string, ref: ExternalRef): Promise<T> {
  const found = await findByExternalRef<T>(op, entity, ref);
  if (!found || (op.guard && !op.guard.canRead(entity, found))) throw notFound(entity, externalKeyOf(ref));
  return found;
}

/** `getByExternalRef` as a service method: validates, then reads in one read transaction. */
export function readByExternalRef<T extends RecordBase>(ctx: Parameters<typeof runRead>[0], entity: string, name: string, system: string, id: string): Promise<T> {
  const ref = parseExternalRef(system, id, `${name}.getByExternalRef`);
  return runRead(ctx, (op) => getByExternalRef<T>(op, entity, ref));
}

/**
 * Creates the record linked to `(system, id)`, or updates it when one exists — in one transaction,
 * so two calls never make two records. The input is `create`'s; on an existing record the fields
 * `update` takes are applied as a patch (create-only fields such as a deal's pipeline and stage are
 * ignored then: moves through the funnel stay with the funnel calls). The ref is always kept on the
 * record. A retry of the same call finds the record already saying everything: no write, no event.
 *
 * Two calls racing with a new ref (two processes on PostgreSQL) both find nothing; the second
 * create is refused by the ref's unique index, and that call runs once more — as an import retries
 * such a row — to find the first one's record: `created` and then `updated` or `unchanged`.
 *
 * @throws CrmError `VALIDATION` for bad arguments or input (nothing written); `CONFLICT` when
 *   `expectedVersion` does not match (or nothing exists yet), or when another record holds one of the
 *   input's other refs ("external ref erp:C-7 is already taken by contact …", `details.key.heldBy`
 *   unless the view may not read that record); `NOT_FOUND` / `FORBIDDEN` in a view when the linked
 *   record lies outside the principal's scopes; whatever `create`/`update` raise.
 */
export async function upsertByExternalRef<T extends RecordBase>(
  ctx: Parameters<typeof runWrite>[0],
  target: ExternalRefTarget<T>,
  system: string,
  id: string,
  input: unknown,
  options: UpsertOptions = {},
): Promise<UpsertResult<T>> {
  const context = `${target.name}.upsertByExternalRef`;
  const ref = parseExternalRef(system, id, context);
  const { expectedVersion } = parseInput(upsertOptions, options, context);
  const parsed = target.parseCreate(input, context);
  if ('id' in parsed && parsed.id !== undefined) throw validationError(context, [{ path: ['id'], code: 'unknown_field', message: 'the external ref names the record: give no id' }]);
  // The key joins the input's refs: together they keep the API's limit of 20.
  const { externalRefs: refs } = parseInput(keptRefs, { externalRefs: distinctRefs([ref, ...(parsed.externalRefs ?? [])]) }, context);
  const attempt = () => runWrite(ctx, async (op): Promise<UpsertResult<T>> => {
    const found = await findByExternalRef<T>(op, target.entity, ref);
    // A record the view may not read is NOT_FOUND under the ref, before anything tells its id or version.
    if (found && op.guard && !op.guard.canRead(target.entity, found)) throw notFound(target.entity, externalKeyOf(ref));
    if (expectedVersion !== undefined && found?.version !== expectedVersion) throw conflict(target.entity, found?.id ?? externalKeyOf(ref), expectedVersion, found?.version ?? null);
    if (!found) return { record: await target.create(op, { ...parsed, externalRefs: refs }), outcome: 'created' };
    if (!target.update || !target.updateSchema) {
      return { record: found, outcome: 'unchanged' };
    }
    const known = target.updateSchema.def.shape as Record<string, unknown>;
    const patch: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parsed)) if (key in known && key !== 'externalRefs') patch[key] = value;
    // Refs given with the input replace the record's, with the key of the call kept.
    if (parsed.externalRefs) patch.externalRefs = refs;
    const record = await target.update(op, found.id, parseInput(target.updateSchema, patch, context));
    return { record, outcome: record.version === found.version ? 'unchanged' : 'updated' };
  });
  return (
    attempt()
      // A ref a concurrent call took after the lookup: once more, the lookup finds that record (a ref
      // another record really holds is refused again, its holder named now that it is committed).
      .catch((error: unknown) => (refTaken(error) ? attempt() : Promise.reject(error)))
      .catch((error: unknown) => {
        if (!refTaken(error)) throw error;
        // Named as the caller gave it ("external ref shop:c1"), not by the stored index; details as the storage gave them.
        const { key, entity } = error.details;
        throw new CrmError('CONFLICT', `${context}: external ref ${key.value} is already taken${key.heldBy ? ` by ${entity} ${key.heldBy}` : ''}`, error.details);
      })
  );
}

/** Whether a write failed because another record holds an external ref (the unique `externalKeys` index). */
function refTaken(error: unknown): error is CrmError<'CONFLICT'> & { details: { entity: string; key: { value: string; heldBy?: string } } } {
  return isCrmError(error, 'CONFLICT') && error.details.key?.field === 'externalKeys';
}

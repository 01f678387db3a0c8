import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';
import type { Operation } from './operation.js';

/** A link a record makes to another record, to check before writing. */
export interface ReferenceCheck {
  readonly entity: string;
  readonly id: string | null | undefined;
  readonly path: readonly (string | number)[];
}

/** The kinds a remove or a merge deletes after checking or moving what links to them. */
const LOCKED = new Set(['lead', 'contact', 'company']);

/**
 * Takes the keyed locks (`StorageTx.lockKeys`, key `<entity>:<id>`) of the leads, contacts and
 * companies named, in one call (one order: no deadlock between two such calls), before the caller
 * reads them. Whatever links a record to one of them (`checkReferences`), removes one after counting
 * its links, or merges it (moving its links, deleting it) holds its key until commit: on PostgreSQL
 * (READ COMMITTED) the later one waits and then reads what the first committed, so no deal is left
 * on a contact a concurrent remove or merge deleted. Engines whose writers never overlap do nothing.
 */
export async function lockRecords(op: Operation, refs: readonly { readonly entity: string; readonly id: string | null | undefined }[]): Promise<void> {
  const keys = refs.flatMap((r) => (r.id && LOCKED.has(r.entity) ? [`${r.entity}:${r.id}`] : []));
  if (keys.length) await op.tx.lockKeys(op.tenantId, keys);
}

/**
 * Loads the records an input links to and fails with `VALIDATION` (path of the link) when one does
 * not exist in this tenant — or, in a view, lies outside the principal's read scope (a record may not
 * link to what its author cannot read). Returns the loaded records by entity and id. The leads,
 * contacts and companies linked to stay locked until commit (`lockRecords`).
 */
export async function checkReferences(op: Operation, context: string, checks: readonly ReferenceCheck[]): Promise<Map<string, RecordBase>> {
  const found = new Map<string, RecordBase>();
  const issues: ValidationIssue[] = [];
  const byEntity = new Map<string, ReferenceCheck[]>();
  for (const check of checks) {
    if (!check.id) continue;
    const list = byEntity.get(check.entity) ?? [];
    list.push(check);
    byEntity.set(check.entity, list);
  }
  await lockRecords(op, checks);
  for (const [entity, list] of byEntity) {
    const rows = await op.getMany(entity, list.map((c) => c.id!));
    list.forEach((check, i) => {
      const row = rows[i];
      // A record outside the principal's read scope is reported like a missing one: its existence stays hidden.
      if (row && (!op.guard || op.guard.canRead(entity, row))) found.set(`${entity}:${check.id}`, row);
      else issues.push({ path: [...check.path], code: 'not_found', message: `${entity} ${check.id} does not exist` });
    });
  }
  if (issues.length) throw validationError(context, issues);
  return found;
}

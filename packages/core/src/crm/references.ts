import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';
import type { Operation } from './operation.js';

/** A link a record makes to another record, to check before writing. */
export interface ReferenceCheck {
  readonly entity: string;
  readonly id: string | null | undefined;
  readonly path: readonly (string | number)[];
}

/**
 * Loads the records an input links to and fails with `VALIDATION` (path of the link) when one does
 * not exist in this tenant — or, in a view, lies outside the principal's read scope (a record may not
 * link to what its author cannot read). Returns the loaded records by entity and id.
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

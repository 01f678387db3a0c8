import type { AccessGuard } from '../crm/access-guard.js';
import { CrmError, isCrmError, uniqueConflict } from '../errors/crm-error.js';
import type { RecordBase } from '../schema/record.js';

interface ConflictDetails {
  readonly entity: string;
  readonly id: string;
  readonly expectedVersion: number | null;
  readonly actualVersion: number | null;
  readonly key?: { readonly field: string; readonly value: string; readonly heldBy?: string };
}

/**
 * A storage write's error as a view may see it. A unique-key conflict names the row holding the
 * value (`details.key.heldBy`, and in the message), and an insert whose id is taken tells the stored
 * row's version: when that row is one the principal may not read, the conflict carries neither
 * (a hidden record's id or version would tell that it exists and how often it changed). Every
 * adapter raises these the same way (`uniqueConflict`, `checkWriteVersion`), so one place conceals
 * them all. When the holder cannot be read (an aborted PostgreSQL transaction), it is concealed.
 *
 * @param guard The view's guard.
 * @param write `'insert'` or `'update'`: only an insert's id collision is concealed.
 * @param error What the write threw.
 * @param load Reads rows by id in the write's transaction.
 * @returns The error to throw.
 */
export async function concealConflict(
  guard: AccessGuard,
  write: 'insert' | 'update',
  error: unknown,
  load: (entity: string, ids: readonly string[]) => Promise<readonly (RecordBase | undefined)[]>,
): Promise<unknown> {
  if (!isCrmError(error) || error.code !== 'CONFLICT') return error;
  const details = error.details as unknown as ConflictDetails;
  const { entity, id, key } = details;
  const holder = key ? key.heldBy : write === 'insert' && details.expectedVersion === null && details.actualVersion !== null ? id : undefined;
  if (holder === undefined) return error;
  let readable = false;
  try {
    const [row] = await load(entity, [holder]);
    readable = row !== undefined && guard.canRead(entity, row);
  } catch {
    // An adapter whose transaction is spent after the failed write (SQL): conceal; `revealConflict` may undo it.
    readable = false;
  }
  if (readable) return error;
  const concealed = key
    ? uniqueConflict(entity, id, key.field, key.value)
    : new CrmError('CONFLICT', `${entity} ${id}: the id is already taken`, { entity, id, expectedVersion: null, actualVersion: null });
  Object.defineProperty(concealed, CONCEALED, { value: { error, entity, holder }, enumerable: false });
  return concealed;
}

/** The original of a concealed conflict, kept off the enumerable (serialised) properties. */
const CONCEALED = Symbol('crmkit.concealedConflict');

/**
 * After the write's transaction ended: the original conflict when a fresh read shows its holder is
 * readable after all (SQL adapters refuse reads in a transaction whose write failed), else `error`.
 *
 * @param guard The view's guard.
 * @param error What the write operation threw.
 * @param load Reads rows by id in a new read transaction.
 * @returns The error to throw.
 */
export async function revealConflict(
  guard: AccessGuard,
  error: unknown,
  load: (entity: string, ids: readonly string[]) => Promise<readonly (RecordBase | undefined)[]>,
): Promise<unknown> {
  const original = error && typeof error === 'object' ? (error as { [CONCEALED]?: { error: unknown; entity: string; holder: string } })[CONCEALED] : undefined;
  if (!original) return error;
  const [row] = await load(original.entity, [original.holder]).catch(() => [undefined]);
  return row !== undefined && guard.canRead(original.entity, row) ? original.error : error;
}

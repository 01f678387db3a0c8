/**
 * Stable error codes. Hosts branch on `code`, never on `message`.
 *
 * - `VALIDATION`: the input is malformed; `details.issues` lists every problem with its path.
 * - `NOT_FOUND`: the addressed record does not exist in this tenant.
 * - `CONFLICT`: optimistic concurrency failed; `details` carries the stored version.
 * - `RULE_VIOLATION`: a domain rule (funnel guard, lifecycle) forbids the operation; `details.violations` lists them.
 * - `FORBIDDEN`: the principal of a view may not perform the operation; `details` names the action and the rule.
 * - `STORAGE`: the storage engine failed; `details.retryable` says whether retrying can help.
 * - `CLOSED`: the instance or adapter was closed.
 */
export type CrmErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RULE_VIOLATION'
  | 'FORBIDDEN'
  | 'STORAGE'
  | 'CLOSED';

/** One problem found in an input, addressed by its path inside that input. */
export interface ValidationIssue {
  /** Path to the offending value, e.g. `['lineItems', 0, 'quantity']`. Empty for the input itself. */
  readonly path: readonly (string | number)[];
  /** Machine-readable kind of problem (`too_big`, `invalid_type`, `unknown_field`, …). */
  readonly code: string;
  /** Human-readable explanation in English. */
  readonly message: string;
}

/** One violated domain rule. */
export interface RuleViolation {
  /** Stable identifier of the rule, e.g. `lead.alreadyConverted` or `stage.requiresContact`. */
  readonly rule: string;
  readonly message: string;
  /** Rule-specific data, e.g. the field and the value it required. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** Structured details per error code. */
export interface CrmErrorDetailsMap {
  VALIDATION: { readonly issues: readonly ValidationIssue[] };
  NOT_FOUND: { readonly entity: string; readonly id: string };
  CONFLICT: {
    readonly entity: string;
    readonly id: string;
    readonly expectedVersion: number | null;
    /** The version in storage, `null` when the record does not exist (anymore). */
    readonly actualVersion: number | null;
    /**
     * For a unique-key violation: the unique field, the value already taken (`shop:10042` for an
     * external ref) and the id of the row holding it (absent when the engine did not say).
     */
    readonly key?: { readonly field: string; readonly value: string; readonly heldBy?: string };
    /**
     * Why, when it is not a plain version race: `changedSinceMerge` (an undo found a record the merge
     * touched changed since; `entity`/`id` name it), `mergeUndone` (the merge was undone already).
     */
    readonly reason?: string;
    /** The merge an undo was refused for. */
    readonly mergeId?: string;
  };
  RULE_VIOLATION: { readonly violations: readonly RuleViolation[] };
  FORBIDDEN: {
    /** What was refused: `deal.update`, `deal.read` (a field), `reports.forecast`, … */
    readonly action: string;
    readonly reason?: string;
    /** The record, when one was refused. */
    readonly entity?: string;
    readonly id?: string;
    /** Fields that may not be read or written. */
    readonly fields?: readonly string[];
    /** The access rule that decided: the scope each of the principal's roles grants for the action. */
    readonly rule?: { readonly entity: string; readonly action: string; readonly roles: Readonly<Record<string, string>> };
  };
  STORAGE: { readonly adapter: string; readonly retryable: boolean; readonly operation?: string };
  CLOSED: { readonly what: string };
}

export type CrmErrorDetails<C extends CrmErrorCode = CrmErrorCode> = CrmErrorDetailsMap[C];

/**
 * Marks crmkit errors across copies of the package (an ESM and a CJS copy, two versions in one app):
 * `Symbol.for` gives every copy the same symbol, where `instanceof` only knows its own class.
 */
const CRM_ERROR_BRAND: unique symbol = Symbol.for('crmkit.CrmError');

/** True for a `CrmError` of any copy of `@crmkit/core`. */
function hasBrand(value: unknown): value is CrmError {
  try {
    return typeof value === 'object' && value !== null && (value as { [CRM_ERROR_BRAND]?: unknown })[CRM_ERROR_BRAND] === true;
  } catch {
    return false; // a thrown Proxy whose traps throw: no CrmError, and the check never throws
  }
}

/**
 * The one error type crmkit throws on purpose. Anything else escaping the library is a bug.
 * `isCrmError` (and `instanceof CrmError`) recognise errors from any copy of the package, so a
 * dual ESM/CJS install or two bundled copies do not break error handling.
 *
 * @example
 * try { await crm.deals.update(id, { version: 3, title: 'x' }) }
 * catch (e) { if (isCrmError(e, 'CONFLICT')) console.log(e.details.actualVersion) }
 */
export class CrmError<C extends CrmErrorCode = CrmErrorCode> extends Error {
  override readonly name = 'CrmError';
  readonly code: C;
  readonly details: CrmErrorDetails<C>;

  constructor(code: C, message: string, details: CrmErrorDetails<C>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** The brand shared by every copy of the package (see `isCrmError`). */
  get [CRM_ERROR_BRAND](): true {
    return true;
  }

  /** `error instanceof CrmError` holds for a `CrmError` of any copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value);
  }

  /** A plain object suitable for logs and HTTP responses. */
  toJSON(): { name: string; code: C; message: string; details: CrmErrorDetails<C> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Narrows an unknown thrown value to a `CrmError`, optionally of one code. Recognises errors thrown
 * by any copy of `@crmkit/core` (by a `Symbol.for` brand, not only by class identity).
 *
 * @param error The caught value.
 * @param code Only this code matches, when given.
 * @returns Whether `error` is a `CrmError` (of `code`).
 * @example
 * if (isCrmError(err, 'VALIDATION')) err.details.issues.forEach((i) => console.log(i.path, i.message));
 */
export function isCrmError<C extends CrmErrorCode>(error: unknown, code?: C): error is CrmError<C> {
  return hasBrand(error) && (code === undefined || error.code === code);
}

/** Builds a `VALIDATION` error from issues, with a message naming the first few. */
export function validationError(context: string, issues: readonly ValidationIssue[]): CrmError<'VALIDATION'> {
  const shown = issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`)
    .join('; ');
  const more = issues.length > 3 ? ` (+${issues.length - 3} more)` : '';
  return new CrmError('VALIDATION', `Invalid input to ${context}: ${shown}${more}`, { issues });
}

export function notFound(entity: string, id: string): CrmError<'NOT_FOUND'> {
  return new CrmError('NOT_FOUND', `${entity} ${id} was not found`, { entity, id });
}

export function ruleViolation(violations: readonly RuleViolation[]): CrmError<'RULE_VIOLATION'> {
  const text = violations.map((v) => v.message).join('; ');
  return new CrmError('RULE_VIOLATION', `Rule violated: ${text}`, { violations });
}

/**
 * A unique-key violation (`EntitySchema.unique`): the row `id` of `entity` would hold `value` of
 * `field`, which the row `heldBy` holds already (unknown or concealed: "another"). Every adapter raises
 * it the same way. The message names the value as callers give it — an `externalKeys` value is the
 * external ref `shop:10042` — and the holder, not the row being written (`details.id`).
 */
export function uniqueConflict(entity: string, id: string, field: string, value: string, heldBy?: string): CrmError<'CONFLICT'> {
  const what = field === 'externalKeys' ? `external ref ${value}` : `${field} "${value}"`;
  return new CrmError('CONFLICT', `${what} is already taken by ${heldBy ? `${entity} ${heldBy}` : `another ${entity}`}`, {
    entity,
    id,
    expectedVersion: null,
    actualVersion: null,
    key: { field, value, ...(heldBy === undefined ? {} : { heldBy }) },
  });
}

/** A version conflict (optimistic concurrency). */
export function conflict(
  entity: string,
  id: string,
  expectedVersion: number | null,
  actualVersion: number | null,
): CrmError<'CONFLICT'> {
  return new CrmError(
    'CONFLICT',
    `${entity} ${id} changed concurrently (expected version ${expectedVersion ?? 'none'}, stored ${actualVersion ?? 'none'})`,
    { entity, id, expectedVersion, actualVersion },
  );
}

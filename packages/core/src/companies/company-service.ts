import { readByExternalRef, upsertByExternalRef, type ExternalRefTarget, type UpsertOptions, type UpsertResult } from '../crm/external-ref-api.js';
import { mergeVia } from '../crm/merge-via.js';
import type { MergeOptions, MergeResult } from '../schema/merge.js';
import * as z from 'zod/mini';
import { ruleViolation, type RuleViolation } from '../errors/crm-error.js';
import { companyCreateInputSchema, companyUpdateInputSchema, type Company, type CompanyCreateInput, type CompanyUpdateInput } from '../schema/company.js';
import type { CompanyField } from '../storage/crm-schema.js';
import { createCard, updateCard, type CardConfig } from '../cards/card-operations.js';
import type { CrmContext } from '../crm/context.js';
import { listRecords, type ListOptions, type Page } from '../crm/list-options.js';
import { readRecord, runRead, runWrite } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { normalizeDomain } from '../domain/normalize.js';
import { linkedRecords } from '../cards/linked-records.js';
import { lockRecords } from '../crm/references.js';

/** How companies behave as client cards. Domains are stored normalised (`www.Acme.com` → `acme.com`). */
export const COMPANY_CARD: CardConfig<Company> = {
  entity: 'company',
  editable: ['name', 'domain', 'website', 'phone', 'industry', 'country', 'ownerId', 'notes', 'tags', 'externalRefs'],
  references: () => [],
  kind: 'company',
  refs: () => [],
  ownedByActor: true,
};

function withNormalizedDomain<T extends { domain?: string | null }>(input: T): T {
  // The schema accepted it, so it has a canonical form.
  return typeof input.domain === 'string' ? { ...input, domain: normalizeDomain(input.domain)! } : input;
}

/** How `upsertByExternalRef` creates and updates companies. */
const COMPANY_REFS: ExternalRefTarget<Company> = {
  entity: 'company',
  name: 'companies',
  parseCreate: (input, context) => withNormalizedDomain(parseInput(companyCreateInputSchema, input, context)),
  create: (op, parsed) => createCard(op, COMPANY_CARD, parsed, 'companies.upsertByExternalRef'),
  updateSchema: companyUpdateInputSchema,
  update: (op, id, patch) => updateCard(op, COMPANY_CARD, id, withNormalizedDomain(patch), 'companies.upsertByExternalRef'),
};

/**
 * Companies (accounts): the organisations behind contacts and deals. `crm.companies`.
 */
export class CompanyService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Merges duplicate companies into a survivor and returns it with the merge log entry (whose id
   * `crm.merges.undo` takes): the same as `crm.merges.companies` — field choices, external refs, tags
   * and every linked record move to the survivor in one transaction. Needs the `merges()` feature.
   *
   * @param survivorId The company that stays.
   * @param duplicateIds The companies merged into it (deleted; their snapshots stay in the merge log).
   * @param options `fields` (field → record id it takes its value from), `fillEmpty`, `version`.
   * @returns `{ survivor, merge }`.
   * @throws CrmError `VALIDATION` (code `feature_required`) without the merges() feature; otherwise as
   *   `crm.merges.companies` (`VALIDATION`, `NOT_FOUND`, `CONFLICT`, `RULE_VIOLATION`, `FORBIDDEN`).
   * @example
   * const { survivor, merge } = await crm.companies.merge(keep.id, [drop.id]);
   */
  merge(survivorId: string, duplicateIds: readonly string[], options?: MergeOptions): Promise<MergeResult<Company>> {
    return mergeVia<Company>(this.ctx, 'company', survivorId, duplicateIds, options);
  }

  /**
   * Creates a company.
   *
   * @example
   * const acme = await crm.companies.create({ name: 'Acme GmbH', domain: 'acme.de' });
   */
  async create(input: CompanyCreateInput): Promise<Company> {
    const parsed = withNormalizedDomain(parseInput(companyCreateInputSchema, input, 'companies.create'));
    return runWrite(this.ctx, (op) => createCard(op, COMPANY_CARD, parsed, 'companies.create'));
  }

  /** Reads a company. @throws CrmError `NOT_FOUND`. */
  get(id: string): Promise<Company> {
    return readRecord<Company>(this.ctx, 'company', id, 'companies.get');
  }

  /**
   * Reads the company linked to a record of another system.
   *
   * @param system The other system (`shop`, `erp`).
   * @param id The record's id there.
   * @returns The company.
   * @throws CrmError `VALIDATION` for a malformed system or id; `NOT_FOUND` when no company holds the
   *   ref (or, in a view, it lies outside the read scope).
   * @example
   * const found = await crm.companies.getByExternalRef('shop', '10042');
   */
  async getByExternalRef(system: string, id: string): Promise<Company> {
    return readByExternalRef<Company>(this.ctx, 'company', 'companies', system, id);
  }

  /**
   * Creates the company linked to `(system, id)` with `input`, or updates the one that exists, in one
   * transaction; idempotent on retry (see `upsertByExternalRef`).
   *
   * @returns The record and whether it was `created`, `updated` or `unchanged`.
   * @throws CrmError `VALIDATION`, `CONFLICT` (`expectedVersion` differs), `NOT_FOUND`/`FORBIDDEN` in a view.
   * @example
   * const { record } = await crm.companies.upsertByExternalRef('shop', '10042', { ... });
   */
  async upsertByExternalRef(system: string, id: string, input: CompanyCreateInput, options?: UpsertOptions): Promise<UpsertResult<Company>> {
    return upsertByExternalRef(this.ctx, COMPANY_REFS, system, id, input, options);
  }

  /** Changes a company's fields; `null` clears one; `version` makes it conditional. */
  async update(id: string, patch: CompanyUpdateInput): Promise<Company> {
    const companyId = parseId(id, 'companies.update');
    const parsed = withNormalizedDomain(parseInput(companyUpdateInputSchema, patch, 'companies.update'));
    return runWrite(this.ctx, (op) => updateCard(op, COMPANY_CARD, companyId, parsed, 'companies.update'));
  }

  /** Lists companies (newest first by default). */
  async list(options?: ListOptions<CompanyField>): Promise<Page<Company>> {
    return runRead(this.ctx, (op) => listRecords<Company>(op, 'company', options, 'companies.list'));
  }

  /**
   * Deletes a company no contact or deal points at. Its history stays in the event log.
   *
   * @throws CrmError `RULE_VIOLATION` while contacts or deals are linked to it: per kind, `data.count`
   *   says how many, `data.ids` lists the first ten.
   */
  async remove(id: string, options: { version?: number } = {}): Promise<void> {
    const companyId = parseId(id, 'companies.remove');
    const { version } = parseInput(z.strictObject({ version: versionOptionSchema }), options, 'companies.remove');
    return runWrite(this.ctx, async (op) => {
      // Locked before its contacts and deals are counted: one linked meanwhile waits, then finds it gone.
      await lockRecords(op, [{ entity: 'company', id: companyId }]);
      const company = await op.requireFor<Company>('company', companyId, 'delete');
      assertExpectedVersion('company', company, version);
      const violations: RuleViolation[] = [];
      for (const entity of ['contact', 'deal'] as const) {
        const linked = await linkedRecords(op, entity, 'companyId', company.id);
        if (linked.count) {
          violations.push({ rule: `company.has${entity === 'contact' ? 'Contacts' : 'Deals'}`, message: `company ${company.name} still has ${linked.count} ${entity}s`, data: { ids: linked.ids, count: linked.count } });
        }
      }
      if (violations.length) throw ruleViolation(violations);
      await op.remove('company', company);
      op.record('company.removed', { type: 'company', id: company.id }, { company });
    });
  }
}

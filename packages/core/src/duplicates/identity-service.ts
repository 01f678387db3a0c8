import * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import { countrySchema, int } from '../schema/primitives.js';
import type { CrmContext, SettingRecord } from '../crm/context.js';
import { bumpConfigRevision } from '../crm/config-revision.js';
import { runRead, runWrite } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import { identityCache, phoneParserOf, type IdentitySettings } from './identity-cache.js';
import { reindexSearchKeys } from './reindex.js';

const setSchema = z.strictObject({ defaultRegion: z.nullable(countrySchema) });
const reindexSchema = z.strictObject({ batchSize: z.optional(z.number().check(int(), z.gte(1), z.lte(1000))) });

/**
 * How the tenant's identities are read: the default region of phone numbers written without a
 * country code, and the rebuilding of the normalised keys (e-mail, E.164 phone, IDNA domain) that
 * duplicate detection, company matching and `where.same` use. `crm.identity`.
 */
export class IdentityService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * The identity settings in effect (default: no default region).
   *
   * @throws CrmError `FORBIDDEN` in a view without `setting` read rights (as `calendar.get`).
   */
  async get(): Promise<IdentitySettings> {
    return runRead(this.ctx, (op) => {
      op.guard?.require('setting', 'read');
      return identityCache(op.ctx).load(op.tx, op.tenantId);
    });
  }

  /**
   * Sets (or with `null` clears) the default region: ISO 3166 alpha-2. A record's own `country` and a
   * call's `region` option take precedence. Keys of existing records are not recomputed: run `reindex`.
   *
   * @throws CrmError `VALIDATION` for a malformed region, or when the crm has no phone-number metadata
   * (`createCrm({ phoneNumbers })` from `@crmkit/core/phone`), without which a region cannot be applied.
   * @example
   * await crm.identity.set({ defaultRegion: 'FR' }); // '06 12 34 56 78' is then +33 6 12 34 56 78
   */
  async set(input: { defaultRegion: string | null }): Promise<IdentitySettings> {
    const parsed = parseInput(setSchema, input, 'identity.set');
    if (parsed.defaultRegion && !phoneParserOf(this.ctx).readsNationalNumbers) {
      throw validationError('identity.set', [
        { path: ['defaultRegion'], code: 'unsupported', message: 'reading national phone numbers needs numbering-plan data: pass phoneNumbers from @crmkit/core/phone to createCrm' },
      ]);
    }
    const value: IdentitySettings = parsed.defaultRegion ? { defaultRegion: parsed.defaultRegion } : {};
    return runWrite(this.ctx, async (op) => {
      const [current] = await op.getMany<SettingRecord<IdentitySettings>>('setting', ['identity']);
      const next: SettingRecord<IdentitySettings> = {
        id: 'identity', tenantId: op.tenantId, key: 'identity', value,
        version: (current?.version ?? 0) + 1, createdAt: current?.createdAt ?? op.now, updatedAt: op.now,
      };
      if (current) await op.update('setting', current, next);
      else await op.insert('setting', next);
      identityCache(op.ctx).invalidate();
      await bumpConfigRevision(op);
      return value;
    }, true);
  }

  /**
   * Recomputes the normalised keys of every lead, contact and company, a page per transaction
   * (after changing the default region, or after an upgrade that changed how keys are made).
   * Records whose keys did not change are not written.
   *
   * @returns How many records of each kind were rewritten.
   */
  async reindex(options: { batchSize?: number } = {}): Promise<{ leads: number; contacts: number; companies: number }> {
    const { batchSize = 200 } = parseInput(reindexSchema, options, 'identity.reindex');
    const report = await reindexSearchKeys(this.ctx, batchSize);
    return { leads: report.lead, contacts: report.contact, companies: report.company };
  }
}

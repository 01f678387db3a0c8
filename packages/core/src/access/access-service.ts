import * as z from 'zod/mini';
import { validationError } from '../errors/crm-error.js';
import { reviseRecord } from '../domain/records.js';
import { CHILD_ENTITIES, differsFrom, primaryParent, type ParentAccess } from '../domain/parent-access.js';
import { writeSetting } from '../crm/config-revision.js';
import type { CrmContext, SettingRecord } from '../crm/context.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { mergeLinked, recordIndexMoves } from '../crm/index-moves.js';
import { parseInput } from '../crm/parse-input.js';
import type { CustomFieldDefinition } from '../schema/custom-field.js';
import { idSchema, userIdSchema } from '../schema/primitives.js';
import type { RecordBase, Share } from '../schema/record.js';
import { DIRECTORY_KEY, POLICY_KEY, SHARED_KEY, type AccessCache } from './access-cache.js';
import { DirectoryIndex, EMPTY_DIRECTORY, parseDirectory, type Directory } from './access-directory.js';
import { keepsOwnerKeys, OWNER_KEYS_KEY, stampOwnerKeys } from './owner-keys.js';
import { parsePolicy, type AccessPolicy } from './access-policy.js';
import type { AccessSummary, CompiledAccess } from './compiled-access.js';
import { withParentAccess } from '../crm/feature-writes.js';

const SHARED = ['lead', 'contact', 'company', 'deal'] as const;
const refSchema = z.strictObject({ type: z.enum(SHARED), id: idSchema });
const teamId = z.string().check(z.regex(/^[A-Za-z0-9._@:+-]{1,128}$/, 'must be 1-128 letters, digits or ._@:+-'));
const recipientSchema = z.union([z.strictObject({ userId: userIdSchema }), z.strictObject({ teamId })]);
const shareSchema = z.union([
  z.strictObject({ userId: userIdSchema, access: z.enum(['read', 'write']) }),
  z.strictObject({ teamId, access: z.enum(['read', 'write']) }),
]);
const REASSIGNABLE = ['lead', 'contact', 'company', 'deal', 'task'] as const;
const reassignSchema = z.strictObject({
  from: userIdSchema,
  to: userIdSchema,
  entities: z.optional(z.array(z.enum(REASSIGNABLE)).check(z.minLength(1))),
  batchSize: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
});
/** Shares one record may carry. */
const MAX_SHARES = 100;

/** A record reference that can be shared. */
export interface ShareRef {
  readonly type: (typeof SHARED)[number];
  readonly id: string;
}

/** What `reassign` changed, per entity. */
export type ReassignReport = Readonly<Record<(typeof REASSIGNABLE)[number], number>>;

async function definedCustomKeys(op: Operation): Promise<Record<string, Set<string>>> {
  const { rows } = await op.query<CustomFieldDefinition>('customField', {});
  const keys: Record<string, Set<string>> = {};
  for (const d of rows) (keys[d.entity] ??= new Set()).add(d.key);
  return keys;
}

async function readSetting<T>(op: Operation, key: string): Promise<T | undefined> {
  const [row] = await op.getMany<SettingRecord<T | null>>('setting', [key]);
  return row?.value ?? undefined;
}

/**
 * Applies `change` to a record's shares in one transaction. A function, not a method: nothing on
 * `crm.access` skips the public methods' checks.
 */
async function changeShares(ctx: CrmContext, cache: AccessCache, ref: ShareRef, context: string, change: (shares: readonly Share[]) => Share[], to?: string): Promise<Share[]> {
  // The first share of an entity with a key is a configuration change (below): unless that is known
  // to be marked already, the share runs under the configuration lock, taken first.
  const mark = to && `${ref.type} ${to}`;
  return runWrite(ctx, async (op) => {
    const record = await op.requireFor<RecordBase & { shares?: Share[] }>(ref.type, ref.id, 'share');
    const shares = change(record.shares ?? []).sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
    if (shares.length > MAX_SHARES) throw validationError(context, [{ path: [], code: 'too_big', message: `a record may be shared at most ${MAX_SHARES} times` }]);
    const next = reviseRecord(record, op.now, (d) => {
      const draft = d as { shares?: Share[]; shareKeys?: string[] };
      if (shares.length) {
        draft.shares = shares;
        draft.shareKeys = shares.map((s) => s.to);
      } else {
        delete draft.shares;
        delete draft.shareKeys;
      }
    });
    if (next === record) return shares;
    if (mark) {
      // The first share of an entity with a key turns on the "shared with me" branch of the filters of
      // that key's principals (a configuration change, so every process reloads).
      const marked = (await readSetting<string[]>(op, SHARED_KEY)) ?? [];
      if (!marked.includes(mark)) {
        await writeSetting<string[]>(op, SHARED_KEY, (current = []) => [...new Set([...current, mark])].sort());
        cache.invalidate();
      }
    }
    await op.update(ref.type, record, next);
    op.record(`${ref.type}.updated` as 'deal.updated', ref, { changes: { shares: { from: record.shares ?? [], to: shares } } });
    return shares;
  }, !!mark && !cache.knowsShared(mark));
}

/**
 * Access control of a tenant: the policy, the directory behind team and hierarchy scopes, record
 * shares, and the care of departed users' records. `crm.access`, with the `access()` feature.
 * On a view, the administrative methods need the `setting` entity's `update` grant.
 */
export class AccessService {
  /** @internal */
  constructor(
    private readonly ctx: CrmContext,
    private readonly cache: AccessCache,
  ) {}

  /**
   * Sets (or with `null` removes) the tenant's access policy. Without a policy, views act as trusted
   * users; with one, they get only what their roles grant.
   *
   * @param policy Roles with grants and field rules; see `AccessPolicy`.
   * @returns The stored policy.
   * @throws CrmError `VALIDATION` for a malformed policy, unknown entities, actions, fields or roles,
   *   roles the directory still gives users, or a policy over the size limits; nothing is stored.
   * @example
   * await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' } } } }, defaultRoles: ['rep'] });
   */
  async setPolicy(policy: AccessPolicy | null): Promise<AccessPolicy | null> {
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('setting', 'update');
      let parsed: AccessPolicy | null = null;
      if (policy !== null) {
        parsed = parsePolicy(policy, await definedCustomKeys(op));
        const directory = await readSetting<Directory>(op, DIRECTORY_KEY);
        const issues = (directory?.users ?? []).flatMap((user, i) =>
          (user.roles ?? []).filter((role) => !Object.prototype.hasOwnProperty.call(parsed!.roles, role)).map((role) => ({
            path: ['roles'], code: 'role_in_use', message: `the directory gives user "${user.id}" (users.${i}) the role "${role}", which this policy does not define`,
          })),
        );
        if (issues.length) throw validationError('access.setPolicy', issues.slice(0, 100));
      }
      await writeSetting(op, POLICY_KEY, () => parsed);
      op.record('access.policyChanged', { type: 'setting', id: POLICY_KEY }, { roles: parsed ? Object.keys(parsed.roles).sort() : null });
      this.cache.invalidate();
      return parsed;
    }, true);
  }

  /** The tenant's access policy, or `null` when none is set. */
  async getPolicy(): Promise<AccessPolicy | null> {
    return runRead(this.ctx, async (op) => {
      op.guard?.require('setting', 'read');
      return (await readSetting<AccessPolicy>(op, POLICY_KEY)) ?? null;
    });
  }

  /**
   * Replaces the directory: users (their manager, teams, roles, departure) and teams.
   *
   * @throws CrmError `VALIDATION` for duplicates, unknown teams, managers or roles, a cycle in who
   *   reports to whom, or a directory over the size limits; nothing is stored.
   * @example
   * await crm.access.setDirectory({ teams: [{ id: 'north' }], users: [{ id: 'anna', teamIds: ['north'], managerId: 'tom' }, { id: 'tom' }] });
   */
  async setDirectory(directory: Directory): Promise<Directory> {
    return runWrite(this.ctx, async (op) => {
      op.guard?.require('setting', 'update');
      const policy = await readSetting<AccessPolicy>(op, POLICY_KEY);
      const parsed = parseDirectory(directory, policy ? new Set(Object.keys(policy.roles)) : undefined);
      let previous: Directory | undefined;
      await writeSetting<Directory>(op, DIRECTORY_KEY, (current) => ((previous = current ?? undefined), parsed));
      if (keepsOwnerKeys(op)) await stampKeys(op, this.cache, new DirectoryIndex(previous ?? EMPTY_DIRECTORY), new DirectoryIndex(parsed));
      // Through a storage that cannot restamp (a wrapper without setOwnerKeys), the keys would go stale: scopes stop using them.
      else if ((await readSetting(op, OWNER_KEYS_KEY)) === true) await writeSetting(op, OWNER_KEYS_KEY, () => false);
      op.record('access.directoryChanged', { type: 'setting', id: DIRECTORY_KEY }, { users: parsed.users.length, teams: parsed.teams.length });
      this.cache.invalidate();
      return parsed;
    }, true);
  }

  /** The tenant's directory (empty when none is set). */
  async getDirectory(): Promise<Directory> {
    return runRead(this.ctx, async (op) => {
      op.guard?.require('setting', 'read');
      return (await readSetting<Directory>(op, DIRECTORY_KEY)) ?? EMPTY_DIRECTORY;
    });
  }

  /**
   * Shares one lead, contact, company or deal with a user or a team: `read`, or `write` (read, change
   * and move through the funnel; not delete, assign or share). Its tasks, activities and stage history
   * follow. Sharing again changes the access.
   *
   * @returns The record's shares.
   * @throws CrmError `NOT_FOUND` outside the principal's read scope; `FORBIDDEN` without the `share` grant.
   * @example
   * await crm.access.share({ type: 'deal', id: deal.id }, { teamId: 'support', access: 'read' });
   */
  async share(ref: ShareRef, share: { userId: string; access: 'read' | 'write' } | { teamId: string; access: 'read' | 'write' }): Promise<Share[]> {
    const target = parseInput(refSchema, ref, 'access.share');
    const parsed = parseInput(shareSchema, share, 'access.share');
    const to = 'userId' in parsed ? `u:${parsed.userId}` : `t:${parsed.teamId}`;
    return changeShares(this.ctx, this.cache, target, 'access.share', (shares) => [...shares.filter((s) => s.to !== to), { to, access: parsed.access }], to);
  }

  /** Removes a share of a record. @returns The record's remaining shares. */
  async unshare(ref: ShareRef, recipient: { userId: string } | { teamId: string }): Promise<Share[]> {
    const target = parseInput(refSchema, ref, 'access.unshare');
    const parsed = parseInput(recipientSchema, recipient, 'access.unshare');
    const to = 'userId' in parsed ? `u:${parsed.userId}` : `t:${parsed.teamId}`;
    return changeShares(this.ctx, this.cache, target, 'access.unshare', (shares) => shares.filter((s) => s.to !== to));
  }

  /**
   * Gives every record a user owns to another user — for a user who left the company (whose records
   * the company keeps): leads, contacts, companies, deals and open tasks (done work keeps its author).
   * Each chunk of `batchSize` records is one transaction, all or nothing; a call that fails part-way
   * keeps the chunks done, and calling again continues. Records `deal.assigned` / `lead.assigned`
   * (and `contact.updated`, `company.updated`, `task.updated`) for each.
   *
   * @returns How many records of each entity moved.
   * @throws CrmError `VALIDATION` for bad ids or `to` equal to `from` or departed; `FORBIDDEN` in a view without `setting.update`.
   * @example
   * await crm.access.reassign({ from: 'anna', to: 'tom' });
   */
  async reassign(options: { from: string; to: string; entities?: readonly (typeof REASSIGNABLE)[number][]; batchSize?: number }): Promise<ReassignReport> {
    const parsed = parseInput(reassignSchema, options, 'access.reassign');
    if (parsed.from === parsed.to) throw validationError('access.reassign', [{ path: ['to'], code: 'invalid_value', message: 'must differ from from' }]);
    await runRead(this.ctx, async (op) => {
      op.guard?.require('setting', 'update');
      const directory = await readSetting<Directory>(op, DIRECTORY_KEY);
      if (directory?.users.find((u) => u.id === parsed.to)?.departed) {
        throw validationError('access.reassign', [{ path: ['to'], code: 'invalid_value', message: `"${parsed.to}" has departed` }]);
      }
    });
    const report: Record<string, number> = { lead: 0, contact: 0, company: 0, deal: 0, task: 0 };
    const size = parsed.batchSize ?? 500;
    for (const entity of parsed.entities ?? REASSIGNABLE) {
      for (;;) {
        const moved = await runWrite(this.ctx, async (op) => {
          op.guard?.require('setting', 'update');
          const filters = [{ op: 'eq' as const, field: 'ownerId', value: parsed.from }, ...(entity === 'task' ? [{ op: 'eq' as const, field: 'status', value: 'open' }] : [])];
          const { rows } = await op.query<RecordBase & { ownerId?: string }>(entity, { filter: { op: 'and', filters }, sort: [{ field: 'id' }], limit: size });
          // The page's parent keys in one call (one order), not one by one as each update takes its own:
          // a write holding several of them (`lockRecords`) then never waits in a circle with this one.
          if (entity !== 'task') await op.tx.lockKeys(op.tenantId, rows.map((r) => `${entity}:${r.id}`));
          for (const row of rows) {
            const next = reviseRecord(row, op.now, (d) => void ((d as { ownerId?: string }).ownerId = parsed.to));
            await op.update(entity, row, next);
            const subject = { type: entity, id: row.id };
            if (entity === 'deal' || entity === 'lead') {
              op.record(`${entity}.assigned` as 'deal.assigned', subject, { ownerId: parsed.to, previousOwnerId: parsed.from, reason: `reassigned from ${parsed.from}` });
            } else op.record(`${entity}.updated` as 'deal.updated', subject, { changes: { ownerId: { from: parsed.from, to: parsed.to } } });
          }
          return rows.length;
        });
        report[entity]! += moved;
        if (moved < size) break;
      }
    }
    return report as ReassignReport;
  }

  /**
   * Recomputes the access fields crmkit maintains (each task's, activity's and stage visit's copy of
   * its parent's owner and shares; each record's share keys), in chunks. Data written by crmkit keeps
   * them current; run this once for data stored before they existed, or after editing rows by hand.
   *
   * @returns How many rows were corrected.
   */
  async reindex(options: { batchSize?: number } = {}): Promise<{ updated: number }> {
    const size = parseInput(z.optional(z.strictObject({ batchSize: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))) })), options, 'access.reindex')?.batchSize ?? 500;
    let updated = 0;
    const shared = new Set<string>();
    // A pending merge's undo follows the versions this moves (see `recordIndexMoves`).
    const linked = await mergeLinked(this.ctx);
    for (const entity of [...SHARED, ...CHILD_ENTITIES]) {
      let after: string | undefined;
      do {
        const done = await runWrite(this.ctx, async (op) => {
          op.guard?.require('setting', 'update');
          let changed = 0; // counted per run of the transaction (`runWrite` may run it again after a lost race)
          const page = await op.query<RecordBase & { shares?: Share[]; shareKeys?: string[] }>(entity, { sort: [{ field: 'id' }], limit: size, ...(after ? { after } : {}) });
          const moved: [string, number, string][] = [];
          if ((SHARED as readonly string[]).includes(entity)) {
            // Parent keys in one call, as `reassign` takes them.
            await op.tx.lockKeys(op.tenantId, page.rows.map((r) => `${entity}:${r.id}`));
            for (const row of page.rows) {
              const keys = (row.shares ?? []).map((s) => s.to);
              for (const key of keys) shared.add(`${entity} ${key}`);
              if (keys.join('\n') === (row.shareKeys ?? []).join('\n')) continue;
              await op.update(entity, row, reviseRecord(row, op.now, (d) => {
                if (keys.length) (d as { shareKeys?: string[] }).shareKeys = keys;
                else delete (d as { shareKeys?: string[] }).shareKeys;
              }));
              moved.push([row.id, row.version, entity]);
              changed++;
            }
          } else {
            const fixed = await withParentAccess(op, page.rows);
            for (let i = 0; i < page.rows.length; i++) {
              const row = page.rows[i]!;
              const child = fixed[i]!;
              if (!primaryParent(row) || !differsFrom(row, child as ParentAccess)) continue;
              await op.update(entity, row, { ...child, version: row.version + 1, updatedAt: op.now });
              moved.push([row.id, row.version, entity]);
              changed++;
            }
          }
          await recordIndexMoves(op, linked, moved);
          return { changed, after: page.nextCursor };
        });
        updated += done.changed;
        after = done.after;
      } while (after);
    }
    await runWrite(this.ctx, async (op) => {
      // Deals' team keys: all of them again, from the directory (rows edited by hand, keys never complete).
      if (keepsOwnerKeys(op)) {
        const directory = new DirectoryIndex((await readSetting<Directory>(op, DIRECTORY_KEY)) ?? EMPTY_DIRECTORY);
        await stampKeys(op, this.cache, directory, directory, true);
      }
      const marked = (await readSetting<string[]>(op, SHARED_KEY)) ?? [];
      const now = [...shared].sort();
      if (marked.join() !== now.join()) {
        await writeSetting(op, SHARED_KEY, () => now);
        this.cache.invalidate();
      }
    }, true);
    return { updated };
  }


  /**
   * What the view's principal may do: the scope of every action on every entity, and which entities
   * have field rules. `null` on the crm itself and when no policy is set (everything is allowed).
   *
   * @example
   * const rights = await crm.as({ userId: 'anna' }).access.rights();
   * showAmounts = rights?.fieldRules.includes('deal') ? … : true;
   */
  async rights(): Promise<AccessSummary | null> {
    return runRead(this.ctx, async (op) => (op.guard ? (op.guard as CompiledAccess).summary() : null));
  }
}

/**
 * Restamps deals' team keys in a configuration change's transaction (see `stampOwnerKeys`): every
 * key when they were never complete or `all`, then marks them complete. A module function, not a
 * method: `crm.access` lists only public calls (the junk-input test walks its prototype).
 */
async function stampKeys(op: Operation, cache: AccessCache, previous: DirectoryIndex, next: DirectoryIndex, all = false): Promise<void> {
  const complete = (await readSetting<boolean>(op, OWNER_KEYS_KEY)) === true;
  await stampOwnerKeys(op, previous, next, all || !complete);
  if (!complete) await writeSetting(op, OWNER_KEYS_KEY, () => true);
  cache.invalidate();
}

import { describe, expect, it } from 'vitest';
import { isCrmError, type CrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { POLICY_LIMITS, DIRECTORY_LIMITS } from '@crmkit/core/access';

async function refused(promise: Promise<unknown>): Promise<CrmError<'VALIDATION'>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isCrmError(error, 'VALIDATION')) throw new Error(`expected VALIDATION, got ${String(error)}`);
  return error;
}

async function setup() {
  const t = await createTestCrm();
  await t.crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'number' });
  await t.crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' } } }, head: { grants: { deal: { '*': 'all' } } } }, defaultRoles: ['rep'] });
  await t.crm.access.setDirectory({ teams: [{ id: 'north' }], users: [{ id: 'hana', roles: ['head'] }, { id: 'anna', managerId: 'hana', teamIds: ['north'] }] });
  return t;
}

const role = (grants: unknown, fields?: unknown) => ({ roles: { r: { grants, ...(fields ? { fields } : {}) } } });

describe('access: bad input is refused with VALIDATION and changes nothing', () => {
  it('malformed policies', async () => {
    const { crm, storage } = await setup();
    const before = storage.snapshot();
    const cases: [unknown, (string | number)[], string][] = [
      [42, [], 'invalid_type'],
      [{}, ['roles'], 'invalid_type'],
      [{ roles: {} }, ['roles'], 'too_small'],
      [{ roles: { r: {} } }, ['roles', 'r', 'grants'], 'invalid_type'],
      [{ roles: { r: { grants: {} } }, extra: 1 }, ['extra'], 'unknown_field'],
      [role({ invoice: { read: 'all' } }), ['roles', 'r', 'grants', 'invoice'], 'unknown_field'],
      [role({ deal: { read: 'everything' } }), ['roles', 'r', 'grants', 'deal', 'read'], 'invalid_value'],
      [role({ deal: { convert: 'own' } }), ['roles', 'r', 'grants', 'deal', 'convert'], 'unknown_action'],
      [role({ pipeline: { read: 'team' } }), ['roles', 'r', 'grants', 'pipeline', 'read'], 'invalid_value'],
      [role({ deal: { read: 'all' } }, { deal: { read: { deny: ['amount'] } } }), ['roles', 'r', 'fields', 'deal', 'read', 'deny', 0], 'unknown_field'],
      [role({ deal: { read: 'all' } }, { deal: { read: { deny: ['custom.margin'] } } }), ['roles', 'r', 'fields', 'deal', 'read', 'deny', 0], 'unknown_field'],
      [role({ deal: { read: 'all' } }, { deal: { read: { deny: ['id'] } } }), ['roles', 'r', 'fields', 'deal', 'read', 'deny', 0], 'invalid_value'],
      [role({ deal: { read: 'all' } }, { deal: { read: { allow: ['title'], deny: ['value'] } } }), ['roles', 'r', 'fields', 'deal', 'read', 'deny'], 'unknown_field'],
      [{ ...role({ deal: { read: 'all' } }), defaultRoles: ['ghost'] }, ['defaultRoles', 0], 'unknown_role'],
      [{ roles: { 'bad role!': { grants: {} } } }, ['roles', 'bad role!'], 'invalid_key'],
      [role({ deal: { read: new Date() } }), ['roles', 'r', 'grants', 'deal', 'read'], 'invalid_type'],
    ];
    for (const [policy, path, code] of cases) {
      const error = await refused(crm.access.setPolicy(policy as never));
      expect(error.details.issues.map((i) => [i.path, i.code]), JSON.stringify(policy)).toContainEqual([path, code]);
    }
    // The directory gives hana the role `head`: a policy without it would strand her.
    const stranded = await refused(crm.access.setPolicy({ roles: { rep: { grants: {} } } }));
    expect(stranded.details.issues[0]).toMatchObject({ code: 'role_in_use' });
    expect(storage.snapshot()).toEqual(before);
    expect(await crm.access.getPolicy()).toMatchObject({ roles: { rep: {}, head: {} } });
  });

  it('huge policies', async () => {
    const { crm, storage } = await setup();
    const before = storage.snapshot();
    const many = { roles: Object.fromEntries(Array.from({ length: POLICY_LIMITS.roles + 1 }, (_, i) => [`r${i}`, { grants: { deal: { read: 'own' } } }])) };
    expect((await refused(crm.access.setPolicy(many as never))).details.issues[0]).toMatchObject({ path: ['roles'], code: 'too_big' });
    const bytes = { roles: { r: { description: 'x'.repeat(400), grants: {} } }, defaultRoles: Array.from({ length: 3000 }, () => 'r'.repeat(100)) };
    expect((await refused(crm.access.setPolicy(bytes as never))).details.issues[0]).toMatchObject({ path: [], code: 'too_big' });
    const longList = role({ deal: { read: 'all' } }, { deal: { read: { deny: Array.from({ length: POLICY_LIMITS.fieldsPerList + 1 }, () => 'title') } } });
    expect((await refused(crm.access.setPolicy(longList as never))).details.issues[0]).toMatchObject({ code: 'too_big' });
    expect(storage.snapshot()).toEqual(before);
  });

  it('directories: duplicates, unknown teams, managers and roles, cycles in who reports to whom, size', async () => {
    const { crm, storage } = await setup();
    const before = storage.snapshot();
    const cases: [unknown, (string | number)[], string][] = [
      [{ users: [{ id: 'a' }, { id: 'a' }], teams: [] }, ['users', 1, 'id'], 'duplicate'],
      [{ users: [], teams: [{ id: 't' }, { id: 't' }] }, ['teams', 1, 'id'], 'duplicate'],
      [{ users: [{ id: 'a', teamIds: ['ghost'] }], teams: [] }, ['users', 0, 'teamIds', 0], 'not_found'],
      [{ users: [{ id: 'a', managerId: 'ghost' }], teams: [] }, ['users', 0, 'managerId'], 'not_found'],
      [{ users: [{ id: 'a', managerId: 'a' }], teams: [] }, ['users', 0, 'managerId'], 'cycle'],
      [{ users: [{ id: 'a', managerId: 'c' }, { id: 'b', managerId: 'a' }, { id: 'c', managerId: 'b' }, { id: 'd', managerId: 'c' }], teams: [] }, ['users', 0, 'managerId'], 'cycle'],
      [{ users: [{ id: 'a', roles: ['ghost'] }], teams: [] }, ['users', 0, 'roles', 0], 'unknown_role'],
      [{ users: [{ id: 'has space' }], teams: [] }, ['users', 0, 'id'], 'invalid_format'],
      [{ users: [{ id: 'a', boss: 'b' }], teams: [] }, ['users', 0, 'boss'], 'unknown_field'],
      [{ users: Array.from({ length: DIRECTORY_LIMITS.users + 1 }, (_, i) => ({ id: `u${i}` })), teams: [] }, ['users'], 'too_big'],
    ];
    for (const [directory, path, code] of cases) {
      const error = await refused(crm.access.setDirectory(directory as never));
      expect(error.details.issues.map((i) => [i.path, i.code]), JSON.stringify(directory).slice(0, 200)).toContainEqual([path, code]);
    }
    const cycle = await refused(crm.access.setDirectory({ users: [{ id: 'a', managerId: 'c' }, { id: 'b', managerId: 'a' }, { id: 'c', managerId: 'b' }], teams: [] }));
    expect(cycle.details.issues.filter((i) => i.code === 'cycle')).toHaveLength(1);
    expect(cycle.details.issues[0]!.message).toContain('"a" → "c" → "b" → "a"');
    expect(storage.snapshot()).toEqual(before);
  });

  it('principals, shares and reassignment', async () => {
    const { crm, storage } = await setup();
    const deal = await crm.deals.create({ title: 'x', ownerId: 'anna' }).catch(async () => {
      await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
      return crm.deals.create({ title: 'x', ownerId: 'anna' });
    });
    const before = storage.snapshot();
    expect(() => crm.as({ userId: '' })).toThrow(/principal|userId|crm.as/);
    expect(isCrmError((() => { try { crm.as({ userId: 'a', roles: 'rep' } as never); } catch (e) { return e; } })(), 'VALIDATION')).toBe(true);
    expect(isCrmError((() => { try { crm.as({ userId: 'a', admin: true } as never); } catch (e) { return e; } })(), 'VALIDATION')).toBe(true);
    // An unknown role surfaces when the view first acts (the policy is read then), as VALIDATION.
    const unknown = await refused(crm.as({ userId: 'anna', roles: ['ghost'] }).deals.list());
    expect(unknown.details.issues[0]).toMatchObject({ path: ['principal', 'roles', 0], code: 'unknown_role' });
    await refused(crm.access.share({ type: 'task', id: deal.id } as never, { userId: 'b', access: 'read' }));
    await refused(crm.access.share({ type: 'deal', id: deal.id }, { userId: 'b', teamId: 't', access: 'read' } as never));
    await refused(crm.access.share({ type: 'deal', id: deal.id }, { userId: 'b', access: 'admin' } as never));
    await refused(crm.access.reassign({ from: 'anna', to: 'anna' }));
    await refused(crm.access.reassign({ from: 'anna', to: 'b', batchSize: 0 }));
    await refused(crm.access.reassign({ from: 'anna', to: 'b', entities: ['pipeline'] } as never));
    await crm.access.setDirectory({ teams: [], users: [{ id: 'hana', roles: ['head'] }, { id: 'gone', departed: true }] });
    const snapshot = storage.snapshot();
    await refused(crm.access.reassign({ from: 'anna', to: 'gone' }));
    expect(storage.snapshot()).toEqual(snapshot);
    expect(before.deal).toEqual(snapshot.deal);
  });
});

import * as z from 'zod/mini';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { parseInput } from '../crm/parse-input.js';
import { BASE_FIELDS, ENTITY_ACTIONS, FIELD_CATALOG, POLICY_ENTITIES, SCOPES, WHOLE_ENTITIES, type PolicyEntity, type Scope } from './access-model.js';

const NAME = /^[A-Za-z0-9._@:+-]{1,128}$/;
const FIELD = /^(custom|custom\.[a-z][a-zA-Z0-9_]{0,47}|[a-zA-Z][a-zA-Z0-9]{0,63})$/;

/** Limits that keep a policy a policy (and its compilation cheap): bigger ones are refused with `VALIDATION`. */
export const POLICY_LIMITS = { roles: 100, fieldsPerList: 200, defaultRoles: 20, jsonBytes: 256 * 1024 } as const;

const roleName = z.string().check(z.regex(NAME, 'must be 1-128 letters, digits or ._@:+-'));
const fieldList = z.array(z.string().check(z.regex(FIELD, 'must be a field name, custom.<key> or custom'))).check(z.maxLength(POLICY_LIMITS.fieldsPerList));
const fieldRule = z.union([z.strictObject({ allow: fieldList }), z.strictObject({ deny: fieldList })]);
const actionKey = z.enum(['*', ...new Set<string>(Object.values(ENTITY_ACTIONS).flat())] as [string, ...string[]]);

const roleSchema = z.strictObject({
  description: z.optional(z.string().check(z.maxLength(500))),
  /** Per entity, per action (or `*` for every action of the entity), the rows the role may act on. */
  grants: z.partialRecord(z.enum(POLICY_ENTITIES as [PolicyEntity, ...PolicyEntity[]]), z.partialRecord(actionKey, z.enum(SCOPES))),
  /** Per entity, the fields the role may read and write: an allowlist or a denylist each. */
  fields: z.optional(
    z.partialRecord(
      z.enum(Object.keys(FIELD_CATALOG) as [string, ...string[]]),
      z.strictObject({ read: z.optional(fieldRule), write: z.optional(fieldRule) }),
    ),
  ),
});

/**
 * The access policy of a tenant: plain JSON, so it can live in a config file or a database. Roles add
 * up (a user's rights are the union of its roles' rights, as in Odoo); anything no role grants is denied.
 *
 * @example
 * const policy: AccessPolicy = {
 *   roles: {
 *     rep: { grants: { deal: { '*': 'own' }, task: { '*': 'own' }, pipeline: { read: 'all' } } },
 *     support: { grants: { deal: { read: 'all' } }, fields: { deal: { read: { deny: ['value'] } } } },
 *   },
 *   defaultRoles: ['rep'],
 * };
 */
export const accessPolicySchema = z.strictObject({
  roles: z.record(roleName, roleSchema),
  /** Roles of users that neither the principal nor the directory gives roles to. */
  defaultRoles: z.optional(z.array(roleName).check(z.maxLength(POLICY_LIMITS.defaultRoles))),
});

/** An access policy (see `accessPolicySchema`). */
export type AccessPolicy = z.infer<typeof accessPolicySchema>;
export type AccessRole = AccessPolicy['roles'][string];
export type FieldRule = z.infer<typeof fieldRule>;

/**
 * Validates a policy: its shape, then what a schema cannot say — actions the entity has, scopes the
 * entity takes (`all`/`none` only for configuration and reports), known fields (custom fields must be
 * defined), known default roles, and the size limits.
 *
 * @param input The policy as given.
 * @param customKeys Defined custom-field keys per entity.
 * @returns The parsed policy.
 * @throws CrmError `VALIDATION` listing every problem with its path.
 */
export function parsePolicy(input: unknown, customKeys: Readonly<Record<string, ReadonlySet<string>>>, context = 'access.setPolicy'): AccessPolicy {
  let size = 0;
  try {
    size = JSON.stringify(input ?? null).length;
  } catch {
    size = Infinity;
  }
  if (size > POLICY_LIMITS.jsonBytes) {
    throw validationError(context, [{ path: [], code: 'too_big', message: `a policy may be at most ${POLICY_LIMITS.jsonBytes} bytes of JSON` }]);
  }
  const policy = parseInput(accessPolicySchema, input, context);
  const issues: ValidationIssue[] = [];
  const roles = Object.entries(policy.roles);
  if (roles.length > POLICY_LIMITS.roles) issues.push({ path: ['roles'], code: 'too_big', message: `a policy may have at most ${POLICY_LIMITS.roles} roles` });
  if (roles.length === 0) issues.push({ path: ['roles'], code: 'too_small', message: 'a policy needs at least one role' });
  for (const [name, role] of roles) {
    for (const [entity, actions] of Object.entries(role.grants) as [PolicyEntity, Record<string, Scope>][]) {
      const known: readonly string[] = ENTITY_ACTIONS[entity];
      for (const [action, scope] of Object.entries(actions)) {
        const path = ['roles', name, 'grants', entity, action];
        if (action !== '*' && !known.includes(action)) issues.push({ path, code: 'unknown_action', message: `${entity} has no action "${action}" (known: ${known.join(', ')})` });
        else if (WHOLE_ENTITIES.has(entity) && scope !== 'all' && scope !== 'none') issues.push({ path, code: 'invalid_value', message: `${entity} is granted as a whole: use "all" or "none"` });
      }
    }
    for (const [entity, rules] of Object.entries(role.fields ?? {})) {
      for (const kind of ['read', 'write'] as const) {
        const rule = rules?.[kind];
        if (!rule) continue;
        const list = 'allow' in rule ? rule.allow : rule.deny;
        list.forEach((field, i) => {
          const path = ['roles', name, 'fields', entity, kind, 'allow' in rule ? 'allow' : 'deny', i];
          if (field === 'custom') return;
          if (field.startsWith('custom.')) {
            if (!customKeys[entity]?.has(field.slice(7))) issues.push({ path, code: 'unknown_field', message: `${entity} has no custom field "${field.slice(7)}"` });
          } else if (!FIELD_CATALOG[entity]!.has(field)) issues.push({ path, code: 'unknown_field', message: `${entity} has no field "${field}"` });
          else if (BASE_FIELDS.has(field) && 'deny' in rule) issues.push({ path, code: 'invalid_value', message: `"${field}" is always readable and cannot be denied` });
        });
      }
    }
  }
  (policy.defaultRoles ?? []).forEach((role, i) => {
    if (!Object.prototype.hasOwnProperty.call(policy.roles, role)) issues.push({ path: ['defaultRoles', i], code: 'unknown_role', message: `no role "${role}" in roles` });
  });
  if (issues.length) throw validationError(context, issues.slice(0, 100));
  return policy;
}

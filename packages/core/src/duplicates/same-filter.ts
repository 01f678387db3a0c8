import type { ValidationIssue } from '../errors/crm-error.js';
import { probePhone } from '../domain/duplicates.js';
import { normalizeDomain, normalizeEmail } from '../domain/normalize.js';
import { LIMITS } from '../schema/primitives.js';
import { identityOptions, phoneParserOf } from './identity-cache.js';
import type { Operation } from '../crm/operation.js';

/** Which identities each card entity can be searched by with `same`. */
const SAME_FIELDS: Readonly<Record<string, readonly string[]>> = {
  lead: ['email', 'phone'],
  contact: ['email', 'phone'],
  company: ['phone', 'domain'],
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Replaces every `same` node of a list filter with `containsAny` over `searchKeys`, the indexed
 * normalised keys that crmkit stores with each lead, contact and company (`email:…`, `phone:+…`,
 * `domain:…`). Keys are computed by the same functions at write and at query time, so the answer is
 * the same on every adapter. Malformed trees are left for the filter validator.
 */
export async function resolveSameFilters(op: Operation, entity: string, where: unknown, path: (string | number)[] = ['where']): Promise<{ where: unknown; issues: ValidationIssue[] }> {
  const issues: ValidationIssue[] = [];
  let budget = LIMITS.filterNodes;
  const fields = SAME_FIELDS[entity];
  let identity: Awaited<ReturnType<typeof identityOptions>> | undefined;
  const visit = async (node: unknown, at: (string | number)[], depth: number): Promise<unknown> => {
    if (!isPlainObject(node) || --budget < 0 || depth > LIMITS.filterDepth) return node;
    if ((node.op === 'and' || node.op === 'or') && Array.isArray(node.filters)) {
      const filters: unknown[] = [];
      for (let i = 0; i < node.filters.length; i++) filters.push(await visit(node.filters[i], [...at, 'filters', i], depth + 1));
      return { ...node, filters };
    }
    if (node.op !== 'same') return node;
    // A refused node's own issues are the whole verdict: what replaces it passes the filter check,
    // which would otherwise report `same` as an unknown op besides them (nothing runs with issues).
    const fail = (where: (string | number)[], code: string, message: string) => {
      issues.push({ path: where, code, message });
      return { op: 'containsAny', field: 'searchKeys', values: [] };
    };
    for (const key of Object.keys(node)) {
      if (!['op', 'field', 'value', 'region'].includes(key)) fail([...at, key], 'unknown_field', `unknown field "${key.slice(0, 50)}"`);
    }
    if (!fields) return fail([...at, 'op'], 'invalid_op', 'same applies to leads, contacts and companies');
    if (typeof node.field !== 'string' || !fields.includes(node.field)) return fail([...at, 'field'], 'invalid_value', `must be one of ${fields.join(', ')}`);
    if (typeof node.value !== 'string' || node.value.length > 500) return fail([...at, 'value'], 'invalid_type', 'must be text of at most 500 characters');
    if (node.region !== undefined && (typeof node.region !== 'string' || !/^[A-Z]{2}$/.test(node.region))) {
      return fail([...at, 'region'], 'invalid_format', 'must be an ISO 3166 alpha-2 code like "FR"');
    }
    let key: string | undefined;
    if (node.field === 'email') {
      const email = normalizeEmail(node.value);
      if (!email) return fail([...at, 'value'], 'invalid_format', 'is not an e-mail address');
      key = `email:${email}`;
    } else if (node.field === 'domain') {
      const domain = normalizeDomain(node.value);
      if (!domain) return fail([...at, 'value'], 'invalid_format', 'is not a web domain');
      key = `domain:${domain}`;
    } else {
      identity ??= await identityOptions(op);
      const phone = probePhone({ phone: node.value, ...(node.region ? { country: node.region as string } : {}) }, identity);
      if (!phone) {
        const hint = phoneParserOf(op.ctx).readsNationalNumbers ? 'give it with its country code or a region' : 'write it with its country code (+33 …): this crm reads national numbers only with phoneNumbers from @crmkit/core/phone';
        return fail([...at, 'value'], 'invalid_format', `is not a phone number crmkit can read: ${hint}`);
      }
      key = `phone:${phone}`;
    }
    return { op: 'containsAny', field: 'searchKeys', values: [key] };
  };
  const resolved = await visit(where, path, 0);
  return { where: resolved, issues };
}

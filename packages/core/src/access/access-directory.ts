import * as z from 'zod/mini';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { parseInput } from '../crm/parse-input.js';
import { userIdSchema } from '../schema/primitives.js';

/** Limits of one tenant's directory: bigger ones are refused with `VALIDATION`. */
export const DIRECTORY_LIMITS = { users: 20_000, teams: 2_000, teamsPerUser: 50, rolesPerUser: 20 } as const;

const name = z.string().check(z.regex(/^[A-Za-z0-9._@:+-]{1,128}$/, 'must be 1-128 letters, digits or ._@:+-'));

const userSchema = z.strictObject({
  id: userIdSchema,
  /** Who the user reports to: `subtree` scopes follow these links down. */
  managerId: z.optional(userIdSchema),
  teamIds: z.optional(z.array(name).check(z.maxLength(DIRECTORY_LIMITS.teamsPerUser))),
  roles: z.optional(z.array(name).check(z.maxLength(DIRECTORY_LIMITS.rolesPerUser))),
  /** The user left the company: a view acting for them gets nothing; their records stay until reassigned. */
  departed: z.optional(z.boolean()),
});

/**
 * Who works in the tenant, in which teams, reporting to whom: the data behind `team` and `subtree`
 * scopes, set by the host with `crm.access.setDirectory` (crmkit keeps no user accounts).
 *
 * @example
 * await crm.access.setDirectory({
 *   teams: [{ id: 'north' }],
 *   users: [{ id: 'hana', roles: ['head'] }, { id: 'tom', managerId: 'hana', teamIds: ['north'], roles: ['lead'] }],
 * });
 */
export const directorySchema = z.strictObject({
  users: z.array(userSchema).check(z.maxLength(DIRECTORY_LIMITS.users)),
  teams: z.array(z.strictObject({ id: name, name: z.optional(z.string().check(z.maxLength(200))) })).check(z.maxLength(DIRECTORY_LIMITS.teams)),
});

/** A tenant's directory (see `directorySchema`). */
export type Directory = z.infer<typeof directorySchema>;
export type DirectoryUser = Directory['users'][number];

/**
 * Validates a directory: unique ids, known teams and managers, no cycle in who reports to whom, and
 * (when a policy is given) known roles.
 *
 * @throws CrmError `VALIDATION` listing every problem; a cycle is reported with the users on it.
 */
export function parseDirectory(input: unknown, roles: ReadonlySet<string> | undefined, context = 'access.setDirectory'): Directory {
  const directory = parseInput(directorySchema, input, context);
  const issues: ValidationIssue[] = [];
  const teams = new Set<string>();
  directory.teams.forEach((team, i) => {
    if (teams.has(team.id)) issues.push({ path: ['teams', i, 'id'], code: 'duplicate', message: `team "${team.id}" is listed twice` });
    teams.add(team.id);
  });
  const users = new Map<string, DirectoryUser>();
  directory.users.forEach((user, i) => {
    if (users.has(user.id)) issues.push({ path: ['users', i, 'id'], code: 'duplicate', message: `user "${user.id}" is listed twice` });
    users.set(user.id, user);
  });
  directory.users.forEach((user, i) => {
    if (user.managerId !== undefined && !users.has(user.managerId)) issues.push({ path: ['users', i, 'managerId'], code: 'not_found', message: `no user "${user.managerId}" in the directory` });
    if (user.managerId === user.id) issues.push({ path: ['users', i, 'managerId'], code: 'cycle', message: 'a user cannot report to themselves' });
    (user.teamIds ?? []).forEach((team, j) => {
      if (!teams.has(team)) issues.push({ path: ['users', i, 'teamIds', j], code: 'not_found', message: `no team "${team}" in the directory` });
    });
    if (roles) {
      (user.roles ?? []).forEach((role, j) => {
        if (!roles.has(role)) issues.push({ path: ['users', i, 'roles', j], code: 'unknown_role', message: `the policy has no role "${role}"` });
      });
    }
  });
  // Cycles in the hierarchy: follow each chain of managers; users on a finished chain are done.
  const done = new Set<string>();
  const inReportedCycle = new Set<string>();
  directory.users.forEach((user, i) => {
    const onPath: string[] = [];
    let current: DirectoryUser | undefined = user;
    while (current && !done.has(current.id)) {
      const at = onPath.indexOf(current.id);
      if (at >= 0) {
        const cycle = onPath.slice(at);
        if (!inReportedCycle.has(current.id)) {
          cycle.forEach((id) => inReportedCycle.add(id));
          issues.push({ path: ['users', i, 'managerId'], code: 'cycle', message: `the reporting line loops: ${[...cycle, current.id].map((u) => `"${u}"`).join(' → ')}` });
        }
        break;
      }
      onPath.push(current.id);
      current = current.managerId === undefined || current.managerId === current.id ? undefined : users.get(current.managerId);
    }
    for (const id of onPath) done.add(id);
  });
  if (issues.length) throw validationError(context, issues.slice(0, 100));
  return directory;
}

/** A directory indexed for compiling scopes: members per team, direct reports per manager. */
export class DirectoryIndex {
  readonly users = new Map<string, DirectoryUser>();
  private readonly members = new Map<string, string[]>();
  private readonly reports = new Map<string, string[]>();

  constructor(readonly directory: Directory) {
    for (const user of directory.users) {
      this.users.set(user.id, user);
      for (const team of user.teamIds ?? []) {
        if (!this.members.has(team)) this.members.set(team, []);
        this.members.get(team)!.push(user.id);
      }
      if (user.managerId !== undefined) {
        if (!this.reports.has(user.managerId)) this.reports.set(user.managerId, []);
        this.reports.get(user.managerId)!.push(user.id);
      }
    }
  }

  /** Users listed in a team (unknown team: nobody). */
  membersOf(team: string): readonly string[] {
    return this.members.get(team) ?? [];
  }

  /** Everyone who reports to `userId`, directly or not (the directory has no cycles). */
  reportsOf(userId: string): string[] {
    const out: string[] = [];
    const stack = [...(this.reports.get(userId) ?? [])];
    const seen = new Set<string>([userId]);
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(id);
      stack.push(...(this.reports.get(id) ?? []));
    }
    return out;
  }
}

/** The empty directory of a tenant that set none. */
export const EMPTY_DIRECTORY: Directory = { users: [], teams: [] };

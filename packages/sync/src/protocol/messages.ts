import * as z from 'zod/mini';
import { CLIENT_ID_PATTERN, SEED_PATTERN } from './command-ids.js';
import { COMMAND_NAMES, type CommandName } from './commands.js';
import type { CrmErrorJson } from './errors.js';
import type { SyncedEntity } from './synced-entities.js';

/** The protocol version both sides speak. */
export const PROTOCOL = 1;

/** Limits of one request (design sync.md §5, §12); a server may lower them. */
export const LIMITS = { bodyBytes: 1024 * 1024, commands: 100, pageRows: 2000, defaultPageRows: 500, rejected: 1000 } as const;

export const clientIdSchema = z.string().check(z.regex(CLIENT_ID_PATTERN, 'must be "cli_" and 22 upper-case Crockford base32 characters'));
export const seedSchema = z.string().check(z.regex(SEED_PATTERN, 'must be 12 Crockford base32 characters, the first 0-F'));
export const seqSchema = z.number().check(z.int(), z.gte(1), z.lte(Number.MAX_SAFE_INTEGER));

/**
 * One command: `seq` counts a device's commands from 1; `at` is the device's time (ms); `seed` its derived
 * ids; `after` the device's earlier commands that changed the record whose version it carries (its version
 * is a prediction that holds only if they all applied).
 */
export const commandSchema = z.strictObject({
  seq: seqSchema,
  name: z.enum(COMMAND_NAMES),
  args: z.array(z.unknown()).check(z.maxLength(3)),
  at: z.number().check(z.int(), z.gte(0), z.lte(2 ** 48)),
  seed: seedSchema,
  after: z.optional(z.array(seqSchema).check(z.minLength(1), z.maxLength(1000))),
  tooLarge: z.optional(z.number().check(z.int(), z.gte(1))),
});

export const pushRequestSchema = z.strictObject({
  protocol: z.literal(PROTOCOL),
  clientId: clientIdSchema,
  commands: z.array(commandSchema).check(z.minLength(1)),
  ackRejectedThrough: z.optional(seqSchema),
  since: z.optional(seqSchema),
});

export const pullRequestSchema = z.strictObject({
  protocol: z.literal(PROTOCOL),
  clientId: clientIdSchema,
  checkpoint: z.nullable(z.string().check(z.maxLength(512))),
  limit: z.optional(z.number().check(z.int(), z.gte(1))),
  ackRejectedThrough: z.optional(seqSchema),
});

/** A command as pushed. */
export interface Command {
  readonly seq: number;
  readonly name: CommandName;
  readonly args: readonly unknown[];
  readonly at: number;
  readonly seed: string;
  /**
   * The device's earlier commands (seqs) that changed the record of a versioned command: its `version` was
   * predicted from their optimistic writes, so the server rejects it with `CONFLICT`
   * (`reason: 'predecessorRejected'`) when one of them was rejected — a foreign write could have made the
   * predicted number real (review13 R3).
   */
  readonly after?: readonly number[];
  /**
   * The command could not be sent: its JSON is this many bytes, over the server's body limit (a 413 for it
   * alone). It is pushed with empty `args` and the server rejects it (`VALIDATION` `too_large`), so the seqs
   * after it go on.
   */
  readonly tooLarge?: number;
}

/** `POST …/push`: a device's commands in ascending, consecutive `seq` order (at most 100). */
export interface PushRequest {
  readonly protocol: 1;
  readonly clientId: string;
  readonly commands: readonly Command[];
  /** Rejections up to this seq were shown to the user: the server forgets them. */
  readonly ackRejectedThrough?: number;
  /**
   * The first seq of this client id (default 1): a device that took a new client id (the server lost or
   * refused its sequence, design sync.md §6) keeps numbering its log on. Read only while the server has
   * no row of the client.
   */
  readonly since?: number;
}

/** A rejected command's verdict, kept on the server until the device acknowledges it. */
export interface Rejection {
  readonly seq: number;
  readonly error: CrmErrorJson;
}

/** The verdict on one pushed command. */
export type CommandResult = { readonly seq: number; readonly status: 'applied' } | { readonly seq: number; readonly status: 'rejected'; readonly error: CrmErrorJson };

/** The answer to a push. `stopped`: the batch ended early at that seq (a storage failure); the device resends from there. */
export interface PushResponse {
  readonly protocol: 1;
  readonly lastSeq: number;
  readonly results: readonly CommandResult[];
  readonly stopped?: { readonly seq: number; readonly error: CrmErrorJson };
}

/** `POST …/pull`: changes after `checkpoint` (`null`: a new device, which starts with a reset). */
export interface PullRequest {
  readonly protocol: 1;
  readonly clientId: string;
  readonly checkpoint: string | null;
  /** Rows per page, 1–2000 (default 500). */
  readonly limit?: number;
  readonly ackRejectedThrough?: number;
}

/**
 * The user's write rights as the server's guard holds them: each role's definition (grants, field
 * rules), the user's teams, the owners `team` and `subtree` scopes reach, whether the user departed.
 */
export interface Rights {
  readonly roles: Readonly<Record<string, unknown>>;
  readonly teamIds: readonly string[];
  readonly team: readonly string[];
  readonly subtree: readonly string[];
  readonly departed: boolean;
}

/** One page of a pull (design sync.md §7). */
export interface PullResponse {
  readonly protocol: 1;
  /** Store with this page's data, in its transaction. */
  readonly checkpoint: string;
  /** Rows readable now, field-projected. */
  readonly rows: readonly { readonly entity: SyncedEntity; readonly row: Readonly<Record<string, unknown>> }[];
  /** Exit tags of records deleted or unreadable now. */
  readonly gone: readonly string[];
  /**
   * The fields field rules hide from the user, by record entity (`custom.<key>` for a custom field;
   * `hiddenFields` of core's access): the rows arrive without them. Absent when nothing is hidden.
   * A device command whose refusal rests on one is pushed all the same and the server decides; the
   * device's results and events show none of them (design sync.md §24).
   */
  readonly hidden?: Readonly<Partial<Record<SyncedEntity, readonly string[]>>>;
  /**
   * What the device judges the user's writes with (design sync.md §24, fix13j): the definitions of the
   * user's roles and the owners their scopes reach, from which core's guard is rebuilt. Absent without
   * `access()` or a policy.
   */
  readonly rights?: Rights;
  readonly reset?: 'begin' | 'continue';
  /** Last page of a reset: the device sweeps what it did not receive in it. */
  readonly resetDone?: true;
  readonly hasMore: boolean;
  /** The server's change head in this page's snapshot. */
  readonly head: number;
  readonly client: { readonly lastSeq: number; readonly rejected: readonly Rejection[] };
  /** The server's clock (ms) when it answered: the device dates its commands by it (`SyncState.clockOffset`). */
  readonly serverTime?: number;
}

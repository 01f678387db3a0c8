import * as z from 'zod/mini';
import { externalRefShape, externalRefsSchema } from './external-ref.js';
import { idSchema, LIMITS, optionalText, timestampInputSchema, timestampSchema, userIdSchema, int } from './primitives.js';
import { parentAccessShape, recordBaseShape } from './record.js';

export const ACTIVITY_KINDS = ['call', 'email', 'meeting', 'message', 'note'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export const activityParticipantSchema = z.strictObject({
  contactId: z.optional(idSchema),
  userId: z.optional(userIdSchema),
  name: optionalText(),
  /** E-mail address, phone number or messenger handle used. */
  address: optionalText(254),
});

const activityShape = {
  kind: z.enum(ACTIVITY_KINDS),
  /** Where it happened: `phone`, `email`, `whatsapp`, `telegram`, `sms`, `site`, `shop`, `in-person`, … */
  channel: optionalText(32),
  direction: z.optional(z.enum(['inbound', 'outbound'])),
  subject: optionalText(),
  body: optionalText(LIMITS.longText),
  outcome: optionalText(LIMITS.mediumText),
  durationMinutes: z.optional(z.number().check(int(), z.gte(0), z.lte(60 * 24))),
  participants: z.optional(z.array(activityParticipantSchema).check(z.maxLength(100))),
  dealId: z.optional(idSchema),
  contactId: z.optional(idSchema),
  companyId: z.optional(idSchema),
  leadId: z.optional(idSchema),
  /** The task this activity fulfils, if any. */
  taskId: z.optional(idSchema),
  /** Who did it; defaults to the acting user. */
  ownerId: z.optional(userIdSchema),
};

export const activityLogInputSchema = z.strictObject({
  id: z.optional(idSchema),
  /** Ids of this activity in other systems (a call id of the telephony; see `ExternalRef`). */
  externalRefs: z.optional(externalRefsSchema),
  ...activityShape,
  /** When it happened; defaults to now. */
  occurredAt: z.optional(timestampInputSchema),
});
export type ActivityLogInput = z.input<typeof activityLogInputSchema>;
/** An activity's log input once parsed (what `activities.log` and the imports' hook write). */
export type ActivityLogParsed = z.output<typeof activityLogInputSchema>;

// The stored record's schema, built on call: core makes records and never parses them back, so bundles skip it.
export const activitySchema = () =>
  z.strictObject({
  ...recordBaseShape(),
  ...activityShape,
  participants: z.array(activityParticipantSchema),
  /** The contact ids of `participants`, each once: the indexed list merges find them by. Maintained by crmkit. */
  participantContactIds: z.optional(z.array(idSchema)),
  occurredAt: timestampSchema,
  ...parentAccessShape,
  ...externalRefShape,
});
/** A call, e-mail, meeting, message or note that happened. */
export type Activity = z.infer<ReturnType<typeof activitySchema>>;

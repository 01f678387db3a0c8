import type { AccessGuard } from '../crm/access-guard.js';
import type { CrmEvent } from '../events/event-map.js';

/** Fields a run copies from its record onto records it creates (a task's owner, a task's or activity's links). */
const COPIED = ['ownerId', 'dealId', 'contactId', 'companyId', 'leadId'];

/**
 * A view's simulated events without what the run copied from fields of its record (`sourceType`) the
 * view cannot read there: the event projection judges a created task by the task's rules, so its
 * `ownerId` would show the deal's hidden owner. Tasks and activities in the payloads lose those
 * fields (whatever their value, so a missing one reveals nothing) and refs to records of a hidden link's
 * entity go (`contact:…` when `deal.contactId` is hidden), except an event's own subject.
 *
 * @param events - The simulated events, already projected for the view.
 * @param sourceType - The entity of the record the run was for.
 * @param guard - The view's access rules.
 * @returns The events (the same array when the view reads every copied field).
 * @example
 * cutCopies(events, 'deal', guard); // task.created without ownerId when deal.ownerId is hidden
 */
export function cutCopies(events: readonly CrmEvent[], sourceType: string, guard: AccessGuard): readonly CrmEvent[] {
  const hidden = COPIED.filter((key) => key !== `${sourceType}Id` && !guard.readable(sourceType, key));
  return hidden.length
    ? events.map((event) => {
        const data: Record<string, unknown> = { ...(event.data as object) };
        // The records a run creates: tasks and activities.
        for (const key of ['task', 'activity']) {
          const record = data[key];
          if (key !== sourceType && record) data[key] = Object.fromEntries(Object.entries(record).filter(([field]) => !hidden.includes(field)));
        }
        const refs = event.refs.filter((ref) => ref === `${event.subjectType}:${event.subjectId}` || !hidden.includes(`${ref.split(':')[0]}Id`));
        return { ...event, refs, data } as CrmEvent;
      })
    : events;
}

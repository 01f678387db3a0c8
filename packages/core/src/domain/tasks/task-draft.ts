import type { Task, TaskPriority } from '../../schema/task.js';

/** Everything needed to make a task record (already schema-validated). */
export interface TaskDraft {
  readonly subject: string;
  readonly type?: string;
  readonly dueAt?: string;
  readonly allDay?: boolean;
  readonly dueDate?: string;
  readonly timezone?: string;
  readonly durationMinutes?: number;
  readonly ownerId?: string;
  readonly priority?: TaskPriority;
  readonly notes?: string;
  readonly reminders?: readonly number[];
  readonly recurrence?: string;
  readonly required?: boolean;
  readonly dealId?: string;
  readonly contactId?: string;
  readonly companyId?: string;
  readonly leadId?: string;
  readonly stageKey?: string;
  readonly previousTaskId?: string;
  /** For occurrences of an existing series. */
  readonly series?: Task['recurrence'];
}

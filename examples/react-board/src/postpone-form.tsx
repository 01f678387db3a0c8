import { useState, type FormEvent } from 'react';
import { toLocalInput } from './format.js';

interface PostponeFormProps {
  readonly title: string;
  /** The current next step's due time: the new time must be later. */
  readonly nextStepDueAt: string | undefined;
  readonly onSubmit: (until: string, reason: string | undefined) => void;
  readonly onCancel: () => void;
}

/** When the next step moves to (default: 09:00 the day after it is due now, or tomorrow) and why. */
export function PostponeForm({ title, nextStepDueAt, onSubmit, onCancel }: PostponeFormProps) {
  const [until, setUntil] = useState(() => {
    const due = nextStepDueAt ? Math.max(Date.parse(nextStepDueAt), Date.now()) : Date.now();
    const dayAfter = new Date(due);
    dayAfter.setDate(dayAfter.getDate() + 1);
    dayAfter.setHours(9, 0, 0, 0);
    return toLocalInput(dayAfter.getTime());
  });
  const [reason, setReason] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(new Date(until).toISOString(), reason.trim() || undefined);
  };
  return (
    <form className="card-form" aria-label={`Postpone ${title}`} onSubmit={submit}>
      <label>
        Until <input type="datetime-local" required value={until} onChange={(e) => setUntil(e.target.value)} />
      </label>
      <label>
        Reason <input value={reason} placeholder="Client on holiday" onChange={(e) => setReason(e.target.value)} />
      </label>
      <div className="card-actions">
        <button type="submit">Postpone</button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

import type { LostReason } from '@crmkit/core';
import { useState, type FormEvent } from 'react';

interface LoseFormProps {
  readonly title: string;
  readonly reasons: readonly LostReason[];
  readonly onSubmit: (reason: string, comment: string | undefined) => void;
  readonly onCancel: () => void;
}

/** Losing takes a reason from the pipeline's list, and a comment where the reason requires one. */
export function LoseForm({ title, reasons, onSubmit, onCancel }: LoseFormProps) {
  const [reason, setReason] = useState(reasons[0]?.key ?? '');
  const [comment, setComment] = useState('');
  const needsComment = reasons.find((r) => r.key === reason)?.requiresComment === true;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(reason, comment.trim() || undefined);
  };
  return (
    <form className="card-form" aria-label={`Lose ${title}`} onSubmit={submit}>
      <label>
        Reason
        <select value={reason} onChange={(e) => setReason(e.target.value)}>
          {reasons.map((r) => (
            <option key={r.key} value={r.key}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Comment <input value={comment} required={needsComment} onChange={(e) => setComment(e.target.value)} />
      </label>
      <div className="card-actions">
        <button type="submit" className="danger">
          Mark lost
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

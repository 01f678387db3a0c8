import { where, type Activity, type Pipeline } from '@crmkit/core';
import { useActivities, useCrm, useDeal, useMutation, useTasks, useTimeline } from '@crmkit/react-hooks';
import { memo, useState, type FormEvent } from 'react';
import type { BoardCrm } from './board-crm.js';
import { describeEvent } from '@crmkit/core/describe';
import { formatMoney, formatWhen } from './format.js';

// Timeline sentences show dates in the browser's time zone, like the rest of the panel.
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export interface DealPanelProps {
  readonly dealId: string;
  readonly pipeline: Pipeline | undefined;
  readonly onClose: () => void;
  /**
   * What the panel lists under the note form: the deal's `timeline` (the event log: stage moves,
   * postpones, notes …) or its logged `activities` (calls, notes …). A synced device (field mode) lists
   * activities: the event log is not synced, so its timeline would show only the device's pending changes.
   */
  readonly history: 'timeline' | 'activities';
}

/** The selected deal: its fields, open tasks (complete them), a note form and its timeline or activities. */
export const DealPanel = memo(function DealPanel({ dealId, pipeline, onClose, history }: DealPanelProps) {
  const crm = useCrm<BoardCrm>();
  const deal = useDeal(dealId);
  const tasks = useTasks({ where: where.and(where.eq('dealId', dealId), where.eq('status', 'open')), orderBy: [{ field: 'dueAt' }] });
  const complete = useMutation((taskId: string) => crm.tasks.complete(taskId));
  const logNote = useMutation((outcome: string) => crm.activities.log({ kind: 'note', dealId, outcome }));
  const [note, setNote] = useState('');

  if (deal.status === 'loading') return <aside className="panel">Loading…</aside>;
  if (deal.status === 'error' || !deal.data) {
    return (
      <aside className="panel" role="alert">
        {deal.error?.message}
      </aside>
    );
  }
  const d = deal.data;
  const stage = pipeline?.stages.find((s) => s.key === d.stageKey);
  const stageName = (key: string) => pipeline?.stages.find((s) => s.key === key)?.name ?? key;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if ((await logNote.mutate(note)).ok) setNote('');
  };
  return (
    <aside className="panel" aria-label="Deal">
      <header className="panel-header">
        <h2>{d.title}</h2>
        <button type="button" onClick={onClose} aria-label="Close deal">
          ×
        </button>
      </header>
      <dl className="facts">
        <dt>Stage</dt>
        <dd data-testid="deal-stage">{stage?.name ?? d.stageKey}{d.status !== 'open' ? ` (${d.status})` : ''}</dd>
        <dt>Value</dt>
        <dd>
          {formatMoney(d.value)} · {d.probability}% → {formatMoney(d.weightedValue)}
        </dd>
        {d.expectedCloseDate && (
          <>
            <dt>Expected close</dt>
            <dd>{d.expectedCloseDate}</dd>
          </>
        )}
      </dl>

      <h3>Open tasks</h3>
      {tasks.data?.items.length ? (
        <ul className="tasks">
          {tasks.data.items.map((t) => (
            <li key={t.id}>
              <span>
                {t.subject} <small>{t.dueAt ? formatWhen(t.dueAt) : ''}</small>
              </span>
              <button type="button" disabled={complete.pending} onClick={() => void complete.mutate(t.id)} aria-label={`Complete ${t.subject}`}>
                Done
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{tasks.status === 'loading' ? 'Loading…' : 'No open tasks'}</p>
      )}
      {complete.error && <p role="alert">{complete.error.message}</p>}

      <form className="note-form" onSubmit={(e) => void submit(e)}>
        <input aria-label="Note" placeholder="Log a note…" value={note} required onChange={(e) => setNote(e.target.value)} />
        <button type="submit" disabled={logNote.pending}>
          Log
        </button>
      </form>
      {logNote.error && <p role="alert">{logNote.error.message}</p>}

      {history === 'timeline' ? <DealTimeline dealId={dealId} stageName={stageName} /> : <DealActivities dealId={dealId} />}
    </aside>
  );
});

/** The deal's events, newest first, as sentences. */
function DealTimeline({ dealId, stageName }: { dealId: string; stageName: (key: string) => string }) {
  const timeline = useTimeline({ type: 'deal', id: dealId }, { limit: 20 });
  return (
    <>
      <h3>Timeline</h3>
      <ol className="timeline" aria-label="Timeline">
        {timeline.data?.items.map((e) => (
          <li key={e.id}>
            <time dateTime={e.at}>{formatWhen(e.at)}</time> {describeEvent(e, { locale: 'en-GB', timeZone, stageName })}
          </li>
        ))}
      </ol>
    </>
  );
}

const kindName: Record<Activity['kind'], string> = { call: 'Call', email: 'E-mail', meeting: 'Meeting', message: 'Message', note: 'Note' };

/** The deal's logged activities, newest first: synced records, so the office's show and the device's stay. */
function DealActivities({ dealId }: { dealId: string }) {
  const activities = useActivities({ where: where.eq('dealId', dealId), orderBy: [{ field: 'occurredAt', direction: 'desc' }], limit: 20 });
  return (
    <>
      <h3>Activities</h3>
      <ol className="timeline" aria-label="Activities">
        {activities.data?.items.map((a) => (
          <li key={a.id}>
            <time dateTime={a.occurredAt}>{formatWhen(a.occurredAt)}</time> {kindName[a.kind]}
            {a.outcome ?? a.subject ? `: ${a.outcome ?? a.subject}` : ''}
          </li>
        ))}
      </ol>
    </>
  );
}

import type { Task } from '@crmkit/core';
import { useAgenda, useCrm, useMutation } from '@crmkit/react-hooks';
import { memo } from 'react';
import type { BoardCrm } from './board-crm.js';
import { formatWhen } from './format.js';

/** The signed-in manager's agenda: overdue, today, upcoming; ticking a task completes it. */
export const AgendaPanel = memo(function AgendaPanel({ ownerId, onSelect }: { ownerId: string; onSelect: (dealId: string) => void }) {
  const crm = useCrm<BoardCrm>();
  const agenda = useAgenda(ownerId);
  const complete = useMutation((taskId: string) => crm.tasks.complete(taskId));
  if (agenda.status !== 'success' || !agenda.data) return <aside className="panel agenda">{agenda.status === 'error' ? agenda.error?.message : 'Loading…'}</aside>;
  const section = (title: string, tasks: readonly Task[], tone: string) => (
    <section className={`agenda-section ${tone}`}>
      <h3>
        {title} <span className="count">{tasks.length}</span>
      </h3>
      <ul>
        {tasks.map((t) => (
          <li key={t.id}>
            <input type="checkbox" aria-label={`Complete ${t.subject}`} disabled={complete.pending} onChange={() => void complete.mutate(t.id)} />
            <span>
              {t.dealId ? (
                <button type="button" className="link" onClick={() => onSelect(t.dealId!)}>
                  {t.subject}
                </button>
              ) : (
                t.subject
              )}
              <small>{t.dueAt ? formatWhen(t.dueAt) : ''}</small>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
  return (
    <aside className="panel agenda" aria-label="Agenda">
      <h2>Agenda · {ownerId}</h2>
      {section('Overdue', agenda.data.overdue, 'overdue')}
      {section('Today', agenda.data.today, 'today')}
      {section('Upcoming', agenda.data.upcoming, 'upcoming')}
      {complete.error && <p role="alert">{complete.error.message}</p>}
    </aside>
  );
});

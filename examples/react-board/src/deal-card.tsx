import type { Pipeline } from '@crmkit/core';
import type { BoardObserver } from '@crmkit/core/observe';
import { useBoardCard } from '@crmkit/react-hooks';
import { memo, useState } from 'react';
import { formatMoney, formatWhen } from './format.js';
import { LoseForm } from './lose-form.js';
import { PostponeForm } from './postpone-form.js';

interface DealCardProps {
  readonly board: BoardObserver;
  readonly pipeline: Pipeline;
  readonly dealId: string;
  readonly onSelect: (dealId: string) => void;
}

/** The next open stage after `stageKey` in pipeline order (the "productive next step"). */
function nextOpenStage(pipeline: Pipeline, stageKey: string) {
  const open = pipeline.stages.filter((s) => s.kind === 'open');
  return open[open.findIndex((s) => s.key === stageKey) + 1];
}

/**
 * One card. Memoised and subscribed to its own deal only (`useBoardCard`): a change to another deal
 * never re-renders it. Actions go through the board observer, which shows them at once and rolls
 * back when core refuses (the error then shows on the card and in the board's banner).
 */
export const DealCard = memo(function DealCard({ board, pipeline, dealId, onSelect }: DealCardProps) {
  const card = useBoardCard(board, dealId);
  const [form, setForm] = useState<'none' | 'postpone' | 'lose'>('none');
  if (!card) return null;
  const { deal, pending, error } = card;
  const next = nextOpenStage(pipeline, deal.stageKey);
  return (
    <li className="card" data-deal={deal.id} data-title={deal.title} aria-busy={pending}>
      <button type="button" className="card-title" onClick={() => onSelect(deal.id)}>
        {deal.title}
      </button>
      <div className="card-meta">
        <span className="amount">{formatMoney(deal.value)}</span>
        {!deal.contactId && <span className="badge warn">no contact</span>}
        {deal.postponeCount > 0 && <span className="badge">postponed ×{deal.postponeCount}</span>}
      </div>
      {deal.nextStepDueAt && <div className="next-step">Next step {formatWhen(deal.nextStepDueAt)}</div>}
      {error && (
        <p className="card-error" role="status">
          {error.message}
        </p>
      )}
      {form === 'none' && (
        <div className="card-actions">
          {next ? (
            <button type="button" aria-label={`Advance ${deal.title}`} disabled={pending} onClick={() => void board.move(deal.id, next.key)}>
              Advance → {next.name}
            </button>
          ) : (
            <button type="button" aria-label={`Win ${deal.title}`} disabled={pending} onClick={() => void board.win(deal.id)}>
              Win
            </button>
          )}
          <button type="button" aria-label={`Postpone ${deal.title}`} disabled={pending} onClick={() => setForm('postpone')}>
            Postpone
          </button>
          <button type="button" aria-label={`Lose ${deal.title}`} disabled={pending} onClick={() => setForm('lose')}>
            Lose
          </button>
        </div>
      )}
      {form === 'postpone' && (
        <PostponeForm
          title={deal.title}
          nextStepDueAt={deal.nextStepDueAt}
          onCancel={() => setForm('none')}
          onSubmit={(until, reason) => {
            setForm('none');
            void board.postpone(deal.id, until, reason);
          }}
        />
      )}
      {form === 'lose' && (
        <LoseForm
          title={deal.title}
          reasons={pipeline.settings.lostReasons}
          onCancel={() => setForm('none')}
          onSubmit={(reason, comment) => {
            setForm('none');
            void board.lose(deal.id, reason, comment);
          }}
        />
      )}
    </li>
  );
});

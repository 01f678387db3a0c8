import { useSyncStatus } from '@crmkit/react-hooks';
import type { Crm } from '@crmkit/core';
import type { SyncClient } from '@crmkit/sync';

const TIME = new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * Field mode's sync status (`useSyncStatus`): offline with the changes waiting, syncing, or up to date
 * with the last sync time; commands left to the server because they read a field this user may not read
 * (the card shows them once the server answers); commands the server refused, each with its reason and a
 * button to dismiss them (the board already shows the server's state).
 */
export function SyncBar({ sync }: { sync: Pick<SyncClient<Crm>, 'status' | 'subscribe' | 'dismiss'> }) {
  const status = useSyncStatus(sync);
  const label =
    status.state === 'offline'
      ? 'Offline'
      : status.state === 'syncing'
        ? 'Syncing…'
        : status.state === 'error'
          ? `Sync error: ${status.errors[0]?.message ?? 'unknown'}`
          : status.pending > 0
            ? 'Sending…'
            : `Synced${status.lastSyncAt ? ` ${TIME.format(new Date(status.lastSyncAt))}` : ''}`;
  return (
    <div className="sync-bar" role="status" aria-label="Sync" data-state={status.state} data-pending={status.pending}>
      <span className={`sync-dot ${status.state}`} aria-hidden="true" />
      <span className="sync-label">{label}</span>
      {status.pending > 0 && <span className="badge">{status.pending} pending</span>}
      {status.deferred.length > 0 && (
        <span className="badge" title={status.deferred.map((d) => d.name).join(', ')}>
          {status.deferred.length} awaiting the office
        </span>
      )}
      {status.rejected.length > 0 && (
        <span className="sync-rejected">
          {status.rejected.map((r) => (
            <span key={r.seq} className="badge warn" title={r.error.message}>
              refused: {r.name} — {r.error.message}
            </span>
          ))}
          <button type="button" onClick={() => void sync.dismiss(status.rejected.map((r) => r.seq))}>
            Dismiss
          </button>
        </span>
      )}
    </div>
  );
}

import { createCrm, isCrmError } from '@crmkit/core';
import { CrmProvider } from '@crmkit/react-hooks';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import { createSyncClient, replicaStorage, syncReplica } from '@crmkit/sync';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { boardFeatures } from './board-crm.js';
import { DEMO } from './demo-settings.js';
import { SHELL_WORKER_FILE } from './field-shell-worker.js';
import { SyncBar } from './sync-bar.js';
import './styles.css';

/**
 * Field mode: the same board as a device of the office server (field/server.ts) that served this page.
 * The crm runs on IndexedDB behind `replicaStorage` (server-confirmed rows apart from optimistic ones);
 * the board's actions go through `sync.crm`, so they run at once on the device, wait while the network is
 * down, and are pushed to `/sync` when it is back. The office seeds the data: a new device downloads it.
 * The built page registers the app shell's service worker (src/field-shell-worker.ts), so it also opens
 * and reloads offline. The deal panel lists the deal's activities (synced) rather than its timeline: the
 * event log is not synced, so a device's timeline shows only its own pending changes.
 */
async function start(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  try {
    const local = await createCrm({
      storage: replicaStorage(createIndexedDbStorage({ name: `${DEMO.database}-field-${DEMO.owner}` })), // one database per user
      tenantId: DEMO.tenantId,
      actor: { userId: DEMO.owner },
      features: [...boardFeatures(), syncReplica()],
    });
    const sync = await createSyncClient({ crm: local, endpoint: '/sync' });
    // A device that never synced has no pipeline yet: download before showing the board.
    const synced = await local.pipelines.get(DEMO.pipelineId).then(() => true, (error: unknown) => (isCrmError(error, 'NOT_FOUND') ? false : Promise.reject(error)));
    if (!synced) await sync.syncNow();
    root.render(
      <StrictMode>
        <CrmProvider crm={sync.crm}>
          <App pipelineId={DEMO.pipelineId} ownerId={DEMO.owner} subtitle="crmkit · field mode · IndexedDB synced with the office" status={<SyncBar sync={sync} />} history="activities" />
        </CrmProvider>
      </StrictMode>,
    );
  } catch (error) {
    root.render(
      <p className="banner error" role="alert">
        Could not open the CRM: {(error as Error).message} (the first visit needs the network: it downloads the office's data)
      </p>,
    );
  }
}

/** Keeps this page and its assets for offline opens (a built page only: the dev server has no worker). */
function keepShell(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return; // no worker outside a secure context
  navigator.serviceWorker.register(`/${SHELL_WORKER_FILE}`).catch((error: unknown) => console.warn('field mode: no offline shell', error));
}

keepShell();
void start();

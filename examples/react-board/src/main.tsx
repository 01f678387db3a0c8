import { createCrm } from '@crmkit/core';
import { CrmProvider } from '@crmkit/react-hooks';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { boardFeatures } from './board-crm.js';
import { DEMO } from './demo-settings.js';
import { seedOnFirstVisit } from './seed.js';
import './styles.css';

async function start(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  try {
    const crm = await createCrm({ storage: createIndexedDbStorage({ name: DEMO.database }), tenantId: DEMO.tenantId, actor: { userId: DEMO.owner }, features: boardFeatures() });
    await seedOnFirstVisit(crm);
    root.render(
      <StrictMode>
        <CrmProvider crm={crm}>
          <App pipelineId={DEMO.pipelineId} ownerId={DEMO.owner} />
        </CrmProvider>
      </StrictMode>,
    );
  } catch (error) {
    root.render(
      <p className="banner error" role="alert">
        Could not open the CRM: {(error as Error).message}
      </p>,
    );
  }
}

void start();

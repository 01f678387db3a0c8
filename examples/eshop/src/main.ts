import { createCrm, createMemoryStorage } from '@crmkit/core';
import { SAMPLE_REQUESTS } from './catalog.js';
import { ensurePipeline, PIPELINE_ID, processOrderRequest } from './shop-flow.js';
import { renderBoard } from './summary.js';

const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 'demo-shop', actor: { userId: 'manager-anna' }, defaultCurrency: 'EUR' });
crm.on('lead.converted', (e) => console.log(`  lead ${e.subjectId} converted → deal ${e.data.dealId}`));

await ensurePipeline(crm);
console.log(`Processing ${SAMPLE_REQUESTS.length} order requests…`);
for (const request of SAMPLE_REQUESTS) await processOrderRequest(crm, request, 'manager-anna');

console.log('\nDeals by stage');
console.log(renderBoard(await crm.deals.board(PIPELINE_ID)));
await crm.close();

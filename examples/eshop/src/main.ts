import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCrm } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { duplicates } from '@crmkit/core/duplicates';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { SAMPLE_REQUESTS } from './catalog.js';
import { ensurePipeline, PIPELINE_ID, processOrderRequest } from './shop-flow.js';
import { renderBoard } from './summary.js';

// The embedded default: one SQLite file. Re-runs reuse it and add new orders; delete it to start over.
const file = process.env.CRMKIT_DEMO_DB ?? fileURLToPath(new URL('../data/eshop.sqlite', import.meta.url));
mkdirSync(dirname(file), { recursive: true });
console.log(`Data: ${file}`);

const crm = await createCrm({ storage: createSqliteStorage({ filename: file }), tenantId: 'demo-shop', actor: { userId: 'manager-anna' }, defaultCurrency: 'EUR', features: [activities(), duplicates()] });
crm.on('lead.converted', (e) => console.log(`  lead ${e.subjectId} converted → deal ${e.data.dealId}`));

await ensurePipeline(crm);
console.log(`Processing ${SAMPLE_REQUESTS.length} order requests…`);
const deals = [];
for (const request of SAMPLE_REQUESTS) deals.push(await processOrderRequest(crm, request, 'manager-anna'));

// The first quote goes out: the deal advances to the next stage of the funnel.
await crm.deals.advance(deals[0]!.id);

console.log('\nDeals by stage');
console.log(renderBoard(await crm.deals.board(PIPELINE_ID)));
await crm.close();

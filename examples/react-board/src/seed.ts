import { isCrmError, type CrmWith } from '@crmkit/core';
import type { ActivitiesFeature } from '@crmkit/core/activities';
import type { TasksFeature } from '@crmkit/core/tasks';
import { DEMO } from './demo-settings.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Creates the demo pipeline and data on the first visit only: when the pipeline already exists
 * (a reload, another tab), the stored state is kept as it is. Field mode seeds its server with it.
 *
 * @returns Whether data was created.
 */
export async function seedOnFirstVisit(crm: CrmWith<[TasksFeature, ActivitiesFeature]>, now = Date.now()): Promise<boolean> {
  try {
    await crm.pipelines.get(DEMO.pipelineId);
    return false;
  } catch (error) {
    if (!isCrmError(error, 'NOT_FOUND')) throw error;
  }

  await crm.pipelines.create({
    id: DEMO.pipelineId,
    name: 'Office furniture sales',
    stages: [
      { key: 'new', name: 'New', probability: 10 },
      {
        key: 'qualified',
        name: 'Qualified',
        probability: 30,
        entryRules: [{ type: 'hasContact', message: 'Add a contact before qualifying the deal' }],
      },
      {
        key: 'proposal',
        name: 'Proposal',
        probability: 60,
        entryRules: [{ type: 'field', field: 'expectedCloseDate', op: 'present', message: 'Set an expected close date before sending a proposal' }],
        taskTemplates: [{ subject: 'Send the proposal', type: 'email', due: { amount: 1, unit: 'businessDays' } }],
      },
      { key: 'negotiation', name: 'Negotiation', probability: 80 },
      { key: 'won', name: 'Won', kind: 'won' },
      { key: 'lost', name: 'Lost', kind: 'lost' },
    ],
  });

  const ada = await crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@analytical.example' });
  const grace = await crm.contacts.create({ name: 'Grace Hopper', email: 'grace@cobol.example' });
  const alan = await crm.contacts.create({ name: 'Alan Turing', email: 'alan@bletchley.example' });
  const katherine = await crm.contacts.create({ name: 'Katherine Johnson', email: 'katherine@orbit.example' });
  const closeDate = new Date(now + 30 * DAY).toISOString().slice(0, 10);
  const eur = (amount: number) => ({ amount: amount * 100, currency: 'EUR' });

  const chairs = await crm.deals.create({ title: 'Office chairs ×40', contactId: ada.id, ownerId: DEMO.owner, value: eur(5_160) });
  await crm.deals.create({ title: 'Standing desks', ownerId: DEMO.owner, value: eur(12_400), source: 'web form' });
  const av = await crm.deals.create({ title: 'Conference room AV', contactId: grace.id, ownerId: DEMO.owner, value: eur(8_900) });
  const shelving = await crm.deals.create({ title: 'Warehouse shelving', stageKey: 'qualified', contactId: alan.id, ownerId: DEMO.owner, value: eur(21_000) });
  await crm.deals.create({ title: 'Lab benches', stageKey: 'proposal', contactId: katherine.id, ownerId: DEMO.owner, expectedCloseDate: closeDate, value: eur(17_250) });
  await crm.deals.create({ title: 'Reception furniture', stageKey: 'negotiation', contactId: ada.id, ownerId: DEMO.owner, expectedCloseDate: closeDate, value: eur(9_800) });
  await crm.deals.create({ title: 'Acoustic panels', contactId: grace.id, ownerId: DEMO.owner, value: { amount: 3_200_00, currency: 'USD' } });

  await crm.tasks.create({ subject: 'Call Ada about chair colours', type: 'call', dueAt: new Date(now + 2 * HOUR).toISOString(), dealId: chairs.id, ownerId: DEMO.owner });
  await crm.tasks.create({ subject: 'Demo the AV setup to Grace', type: 'meeting', dueAt: new Date(now + DAY + 2 * HOUR).toISOString(), dealId: av.id, ownerId: DEMO.owner });
  await crm.tasks.create({ subject: 'Send the shelving catalogue', type: 'email', dueAt: new Date(now - DAY).toISOString(), dealId: shelving.id, ownerId: DEMO.owner });
  await crm.activities.log({ kind: 'call', dealId: chairs.id, contactId: ada.id, outcome: 'Wants 40 chairs in two colours' });
  return true;
}

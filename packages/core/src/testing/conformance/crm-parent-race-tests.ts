import { describe, expect, it } from 'vitest';
import type { RecordBase } from '../../schema/record.js';
import type { CrmSubject } from './crm-harness.js';

type Copy = { parentOwner?: string; parentShareKeys?: readonly string[] };
type Parent = 'deal' | 'contact';

/** The copy a child of `parent` must keep: its owner and share keys now. */
const copyOf = (type: Parent, parent: RecordBase & { ownerId?: string; shareKeys?: readonly string[] }): Copy =>
  parent.shareKeys?.length ? { parentOwner: `${type}:${parent.ownerId ?? ''}`, parentShareKeys: parent.shareKeys } : { parentOwner: `${type}:${parent.ownerId ?? ''}` };

const copyIn = (child: object): Copy => {
  const { parentOwner, parentShareKeys } = child as Copy;
  return parentShareKeys?.length ? { parentOwner, parentShareKeys } : { parentOwner };
};

/**
 * Tasks, activities and stage visits written on one connection while their deal or contact changes
 * owner or shares on another (`CrmSubject.racer`): each keeps the copy of the owner and shares its
 * parent has after both committed — on PostgreSQL (READ COMMITTED: the child's read of its parent
 * and the owner change's query of the children overlap) as on engines whose writers run one at a time.
 */
export function crmParentRaceTests(open: () => Promise<CrmSubject>): void {
  describe('children written while their parent changes owner or shares on another connection', () => {
    for (const type of ['deal', 'contact'] as const) {
      it(`a ${type}'s tasks${type === 'deal' ? ', activities and stage visits' : ' and activities'} keep its owner and shares`, async () => {
        const s = await open();
        const [a, b] = [s.crm, await s.racer()];
        const stages = [...Array.from({ length: 12 }, (_, i) => ({ key: `s${i}`, name: `S${i}` })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];
        await a.pipelines.create({ name: 'P', stages });
        const parent = type === 'deal' ? await a.deals.create({ title: 'd', ownerId: 'u0' }) : await a.contacts.create({ name: 'c', ownerId: 'u0' });
        const link = type === 'deal' ? { dealId: parent.id } : { contactId: parent.id };
        const get = () => (type === 'deal' ? a.deals.get(parent.id) : a.contacts.get(parent.id));
        const activities: string[] = [];
        for (let i = 1; i <= 8; i++) {
          // Odd rounds hand the parent to another owner, even ones share it with one more user.
          const change = i % 2
            ? () => (type === 'deal' ? b.deals.update(parent.id, { ownerId: `u${i}` }) : b.contacts.update(parent.id, { ownerId: `u${i}` }))
            : () => b.access.share({ type, id: parent.id }, { userId: `r${i}`, access: 'read' });
          const [, , activity] = await Promise.all([
            change(),
            a.tasks.create({ subject: `t${i}`, ...link }),
            a.activities.log({ kind: 'call', ...link }),
            // A move that writes the deal, then a task of it (its next step): no key wait after its own row lock.
            type === 'deal' ? a.deals.advance(parent.id, { nextStep: { subject: `n${i}` } }) : undefined,
          ]);
          activities.push(activity.id);
        }
        const want = copyOf(type, await get());
        expect(want.parentShareKeys).toHaveLength(4);
        const tasks = (await a.tasks.list({ limit: 100 })).items;
        expect(tasks).toHaveLength(type === 'deal' ? 16 : 8);
        for (const task of tasks) expect(copyIn(task)).toEqual(want);
        for (const id of activities) expect(copyIn(await a.activities.get(id))).toEqual(want);
        if (type === 'deal') {
          const history = await a.deals.stageHistory(parent.id);
          expect(history).toHaveLength(9);
          for (const visit of history) expect(copyIn(visit)).toEqual(want);
        }
      });
    }
  });
}

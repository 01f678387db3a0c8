import { type Row } from '@crmkit/core/storage';
import type Database from 'better-sqlite3';
import type { StorageLayout } from '../src/table-layout.js';
import { rawInserter } from './raw-sqlite.js';

/**
 * The baseline of `crm.deals.advance` on SQLite: hand-written prepared statements doing what advance
 * does, committed per call — read the deal and its pipeline, look up open tasks and the stage's tasks,
 * update the deal, close the open stage visit, insert the new visit and the event (with its refs).
 */
export function rawAdvancer(raw: Database.Database, layout: StorageLayout, tenant: string): (id: string) => void {
  const t = (e: string) => layout.entities.get(e)!.table.name;
  const getDoc = (e: string) => raw.prepare(`SELECT doc FROM "${t(e)}" WHERE tenant_id = ? AND id = ?`).pluck();
  const getDeal = getDoc('deal');
  const getPipeline = getDoc('pipeline');
  const openTasks = raw.prepare(`SELECT doc FROM "${t('task')}" WHERE tenant_id = ? AND deal_id = ? AND status = 'open' ORDER BY due_at, id`).pluck();
  const stageTasks = raw.prepare(`SELECT doc FROM "${t('task')}" WHERE tenant_id = ? AND deal_id = ? AND stage_key = ? AND created_at >= ? ORDER BY id`).pluck();
  const openVisit = raw.prepare(`SELECT doc FROM "${t('stageVisit')}" WHERE tenant_id = ? AND deal_id = ? AND exited_at IS NULL ORDER BY entered_at DESC, id LIMIT 2`).pluck();
  const updateDeal = raw.prepare(
    `UPDATE "${t('deal')}" SET version = ?, doc = ?, stage_key = ?, probability = ?, weighted_value__amount = ?, stage_entered_at = ?, updated_at = ?, last_activity_at = ? WHERE tenant_id = ? AND id = ? AND version = ?`,
  );
  const updateVisit = raw.prepare(`UPDATE "${t('stageVisit')}" SET version = ?, doc = ?, exited_at = ?, exit_kind = ?, to_stage_key = ?, duration_ms = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND version = ?`);
  const insertVisit = rawInserter(raw, layout, 'stageVisit');
  const insertEvent = rawInserter(raw, layout, 'event');
  const run = Date.now().toString(36);
  let seq = 0;
  const rawAdvance = (id: string) => {
    raw.exec('BEGIN IMMEDIATE');
    const now = new Date().toISOString();
    const deal = JSON.parse(getDeal.get(tenant, id) as string) as Row & Record<string, never>;
    const pipeline = JSON.parse(getPipeline.get(tenant, deal.pipelineId) as string) as { stages: { key: string; probability: number }[] };
    openTasks.all(tenant, id).map((d) => JSON.parse(d as string));
    stageTasks.all(tenant, id, deal.stageKey, deal.stageEnteredAt).map((d) => JSON.parse(d as string));
    const index = pipeline.stages.findIndex((s) => s.key === deal.stageKey);
    const to = pipeline.stages[index + 1]!;
    const value = deal.value as unknown as { amount: number; currency: string };
    const next = {
      ...deal, version: deal.version + 1, updatedAt: now, stageKey: to.key, probability: to.probability, stageEnteredAt: now, lastActivityAt: now, stagePostponeCount: 0,
      weightedValue: { amount: Math.round((value.amount * to.probability) / 100), currency: value.currency },
    };
    if (updateDeal.run(next.version, JSON.stringify(next), next.stageKey, next.probability, next.weightedValue.amount, now, now, now, tenant, id, deal.version).changes !== 1) throw new Error('raw advance lost a race');
    const visit = JSON.parse(openVisit.all(tenant, id)[0] as string) as Row & { enteredAt: string };
    const closed = { ...visit, version: visit.version + 1, updatedAt: now, exitedAt: now, exitKind: 'advanced', toStageKey: to.key, durationMs: Date.parse(now) - Date.parse(visit.enteredAt) };
    updateVisit.run(closed.version, JSON.stringify(closed), now, 'advanced', to.key, closed.durationMs, now, tenant, visit.id, visit.version);
    insertVisit(tenant, { id: `rawvisit_${run}_${++seq}`, tenantId: tenant, version: 1, createdAt: now, updatedAt: now, dealId: id, pipelineId: deal.pipelineId, stageKey: to.key, enteredAt: now, fromStageKey: deal.stageKey, ownerId: deal.ownerId, postponeCount: 0 } as Row);
    insertEvent(tenant, {
      id: `rawevt_${run}_${seq}`, tenantId: tenant, version: 1, createdAt: now, updatedAt: now, type: 'deal.stageChanged', at: now, actorId: 'bench', subjectType: 'deal', subjectId: id,
      refs: [`deal:${id}`], data: { from: deal.stageKey, to: to.key, deal: next },
    } as Row);
    raw.exec('COMMIT');
  };
  return rawAdvance;
}

import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';

/**
 * The fingerprint of each released schema version. Adapters create tables, stores and indexes from
 * the schema and migrate on a version change only: changing entities, fields or indexes without
 * bumping `version` would leave existing databases without them. When this test fails, bump
 * `CRM_STORAGE_SCHEMA.version` and add the new fingerprint.
 */
const FINGERPRINTS: Record<number, string> = {
  4: '9bf2e3f64c074bb2',
  5: 'dab132c49c52101b',
  6: 'ca5914f5b7f7ce3d',
  7: '07e9fefd59713517',
  // 8: issue 16's external refs and import jobs, issue 18's automation rules and runs (one bump, none released in between).
  8: 'aef210649097164f',
  // 9: issue 16's merge log (`merge`), and the indexes a merge re-points through (deals by lead, leads by converted company).
  9: '42e3afe4295b50f7',
  // 10: activities' `participantContactIds` (indexed), so a merge finds participants without the prunable change feed.
  10: '636a6cd14e3ed7f3',
  // 11: issue 17's sparse index fields (deals, contacts, tasks and activities by contact, company, lead, deal; deals' closedAt).
  11: '97d497002897f468',
  // 12: issue 13's device sync: syncChange and syncClient (server), syncCommand, syncShadow and syncTag (device).
  12: '2e5d9afeaf0a07e6',
  // 13: syncChange without the `tx`/`tomb` indexes and the `txPosition entity recordId` columns; tombstones sparse (the write cost).
  13: '836d86c0d1097d0d',
};

it('the storage schema changes only together with its version', () => {
  const fingerprint = createHash('sha256').update(JSON.stringify(CRM_STORAGE_SCHEMA.entities)).digest('hex').slice(0, 16);
  expect({ version: CRM_STORAGE_SCHEMA.version, fingerprint }).toEqual({ version: CRM_STORAGE_SCHEMA.version, fingerprint: FINGERPRINTS[CRM_STORAGE_SCHEMA.version] });
});

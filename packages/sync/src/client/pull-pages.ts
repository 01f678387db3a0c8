import { isCrmError } from '@crmkit/core';
import { PROTOCOL, type PullResponse } from '../protocol/messages.js';
import { applyPage, preparePage } from './apply-page.js';
import { offline, type Device } from './device.js';
import { recordVerdicts, rejectionResults } from './record-verdicts.js';
import { readState, writeState } from './sync-state.js';

/**
 * Pulls pages until the server has no more (design sync.md §8): each applied with its checkpoint in one
 * transaction (a crash refetches it), then the rebase onto the snapshot of the last page. A server whose
 * changes are behind the checkpoint (restored from a backup) gets a reset.
 *
 * @param onPage Told of each applied page (`first`: part of the device's first pull).
 * @throws CrmError what the server answered; `STORAGE` (`adapter: 'sync'`) when it cannot be reached.
 */
export async function pullPages(device: Device, pageRows: number, signal: AbortSignal, onPage: (page: PullResponse, first: boolean) => void): Promise<void> {
  const { replica, tenant } = device;
  for (;;) {
    const s = (await replica.transaction('apply', (tx) => readState(tx, tenant)))!;
    let page: PullResponse;
    try {
      page = await device.transport.pull({ protocol: PROTOCOL, clientId: device.clientId, checkpoint: s.checkpoint, limit: pageRows, ...(s.verdictsThrough ? { ackRejectedThrough: s.verdictsThrough } : {}) }, signal);
    } catch (error) {
      if (!isCrmError(error)) throw offline('sync.pull', error);
      if (isCrmError(error, 'VALIDATION') && error.details.issues.some((i) => i.code === 'checkpoint_ahead')) {
        await device.serial(() => replica.transaction('apply', (tx) => writeState(tx, tenant, device.now(), { checkpoint: null })));
        continue;
      }
      throw error;
    }
    const prepared = await preparePage(tenant, page);
    await device.serial(() => replica.transaction('apply', async (tx) => {
      const current = (await readState(tx, tenant))!;
      // A late or duplicated answer to an older request: the stored checkpoint moved on.
      if (current.checkpoint !== s.checkpoint) return;
      const change = await applyPage(tx, tenant, current, prepared);
      await recordVerdicts(tx, tenant, rejectionResults(page.client.rejected));
      await writeState(tx, tenant, device.now(), change);
    }));
    onPage(page, s.lastSyncAt === undefined);
    if (!page.hasMore) {
      await device.rebase({ confirmedThrough: page.client.lastSeq, rejected: page.client.rejected });
      await device.serial(() => replica.transaction('apply', (tx) => writeState(tx, tenant, device.now(), { lastSyncAt: device.now() })));
      return;
    }
  }
}

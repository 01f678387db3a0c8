import { isCrmError } from '@crmkit/core';
import { PROTOCOL, type PullResponse } from '../protocol/messages.js';
import { applyPage, preparePage, type PreparedPage } from './apply-page.js';
import { offline, type Device, type KnownTags } from './device.js';
import { loadTags } from './tag-packs.js';
import { recordVerdicts, rejectionResults } from './record-verdicts.js';
import { readState, writeState } from './sync-state.js';
import { ackThrough, listCommands } from './command-log.js';

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
  const [s, pending] = await replica.transaction('apply', async (tx) => [(await readState(tx, tenant))!, await listCommands(tx, tenant, ['pending'])] as const);
  const ack = ackThrough(s.verdictsThrough, pending);
  const first = s.lastSyncAt === undefined;
  const fetchPage = (checkpoint: string | null) => device.transport
    .pull({ protocol: PROTOCOL, clientId: s.clientId, checkpoint, limit: pageRows, ...(ack > 0 ? { ackRejectedThrough: ack } : {}) }, signal)
    .then((page) => preparePage(tenant, page));
  let checkpoint = s.checkpoint;
  let next = fetchPage(checkpoint);
  for (;;) {
    let prepared: PreparedPage;
    try {
      prepared = await next;
    } catch (error) {
      if (!isCrmError(error)) throw offline('sync.pull', error);
      if (isCrmError(error, 'VALIDATION') && error.details.issues.some((i) => i.code === 'checkpoint_ahead')) {
        await device.serial(() => replica.transaction('apply', (tx) => writeState(tx, tenant, device.now(), { checkpoint: null })));
        next = fetchPage((checkpoint = null));
        continue;
      }
      throw error;
    }
    const { page } = prepared;
    // The next page is fetched and hashed while this one applies.
    if (page.hasMore) (next = fetchPage(page.checkpoint)).catch(() => undefined);
    const expected = checkpoint;
    checkpoint = await device.serial(async () => {
      // The tags this client stored last, unless someone else (another tab) stored pages since: then read once, in the transaction.
      let tags = device.tags;
      let known: KnownTags | undefined;
      device.tags = undefined;
      const stored = await replica.transaction('apply', async (tx) => {
        const current = (await readState(tx, tenant))!;
        // A late or duplicated answer to an older request: the stored checkpoint moved on.
        if (current.checkpoint !== expected) return current.checkpoint;
        if (tags?.checkpoint !== current.checkpoint || tags.epoch !== current.epoch) tags = { index: await loadTags(tx, tenant), checkpoint: null, epoch: 0 };
        const change = await applyPage(tx, tenant, current, prepared, tags.index);
        await recordVerdicts(tx, tenant, rejectionResults(page.client.rejected));
        await writeState(tx, tenant, device.now(), { ...change, hidden: page.hidden ?? {}, rights: page.rights });
        known = { index: tags.index, ...change };
        return change.checkpoint;
      });
      // Committed: the index is what is stored now.
      device.tags = known;
      return stored;
    });
    if (checkpoint !== page.checkpoint) {
      // Not applied: someone else (another tab) stored pages and tags meanwhile, and what was fetched ahead followed the stale page.
      if (page.hasMore) next = fetchPage(checkpoint);
    }
    onPage(page, first);
    if (!page.hasMore) {
      await device.rebase({ confirmedThrough: page.client.lastSeq, rejected: page.client.rejected });
      const offset = Number.isFinite(page.serverTime) ? { clockOffset: Math.round(page.serverTime! - device.ctx.clock.now()) } : {};
      await device.serial(() => replica.transaction('apply', (tx) => writeState(tx, tenant, device.now(), { lastSyncAt: device.now(), ...offset })));
      return;
    }
  }
}

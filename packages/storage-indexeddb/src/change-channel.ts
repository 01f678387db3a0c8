import type { Change } from '@crmkit/core';

/** Publishes committed changes to other tabs and receives theirs. */
export interface ChangeChannel {
  post(changes: readonly Change[]): void;
  close(): void;
}

interface ChannelMessage {
  readonly v: 1;
  readonly changes: readonly Change[];
}

/**
 * Opens the BroadcastChannel of one database (`crmkit-indexeddb:<name>`). Messages carry the changes
 * without rows: another tab's rows may be stale by the time they arrive, so receivers re-read.
 * In Node the channel is unref'd so an open adapter never keeps the process alive.
 */
export function openChangeChannel(
  Channel: typeof BroadcastChannel,
  name: string,
  receive: (changes: readonly Change[]) => void,
): ChangeChannel {
  const channel = new Channel(`crmkit-indexeddb:${name}`);
  (channel as unknown as { unref?: () => void }).unref?.();
  channel.onmessage = (event: MessageEvent<ChannelMessage>) => {
    if (event.data?.v === 1 && Array.isArray(event.data.changes)) receive(event.data.changes);
  };
  return {
    post(changes) {
      const message: ChannelMessage = { v: 1, changes: changes.map(({ entity, tenantId, id, op }) => ({ entity, tenantId, id, op })) };
      channel.postMessage(message);
    },
    close: () => channel.close(),
  };
}

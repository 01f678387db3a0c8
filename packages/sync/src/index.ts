// Entry point of @crmkit/sync: the device side of offline work and device sync (design sync.md §8).
// The protocol (commands, messages, checkpoints, exit tags) is shared with `@crmkit/sync/server`.
export {
  COMMANDS,
  COMMAND_NAMES,
  PROTOCOL,
  LIMITS,
  createCommandIds,
  newClientId,
  newSeed,
  exitTag,
  isSynced,
  SYNCED_ENTITIES,
  SYNCED_SETTINGS,
  type CommandName,
  type CommandSpec,
  type Command,
  type CommandResult,
  type PushRequest,
  type PushResponse,
  type PullRequest,
  type PullResponse,
  type Rejection,
  type SyncedEntity,
  type CrmErrorJson,
} from './protocol/index.js';
// The device (design sync.md §8; issue 13 WP3).
export { replicaStorage } from './client/replica-storage.js';
export { syncReplica, type SyncReplicaApi } from './client/sync-replica.js';
export { createSyncClient, type Executed, type SyncClient, type SyncClientOptions } from './client/sync-client.js';
export type { DeferReason } from './client/defer-command.js';
export { inProcessTransport, type SyncTransport, type SyncHandler } from './client/transport.js';
export { httpTransport, type HttpTransportOptions } from './client/http-transport.js';
export type { SyncStatus, SyncError, RejectedCommand, DeferredCommand } from './client/sync-status.js';
export type { RenewedClient } from './client/sync-state.js';

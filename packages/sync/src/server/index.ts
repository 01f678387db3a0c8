// Entry point of @crmkit/sync/server: change positions (`syncChanges()`) and the HTTP handler of device sync.
export { syncChanges, type SyncChangesApi } from './sync-changes.js';
export { createSyncServer, type SyncServer, type SyncServerOptions } from './sync-server.js';
export type { LiveTiming } from './live.js';
export {
  COMMANDS,
  COMMAND_NAMES,
  PROTOCOL,
  LIMITS,
  exitTag,
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
  type CommandName,
  type Command,
  type CommandResult,
  type PushRequest,
  type PushResponse,
  type PullRequest,
  type PullResponse,
  type Rejection,
  type SyncedEntity,
  type CrmErrorJson,
} from '../protocol/index.js';

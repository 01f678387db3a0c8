// Shared by the device and the server entries (bundled into each).
export * from './command-ids.js';
export * from './commands.js';
export * from './messages.js';
export * from './checkpoint.js';
export * from './exit-tag.js';
export * from './synced-entities.js';
export * from './errors.js';
export * from './parse.js';

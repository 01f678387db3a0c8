// Entry point of @crmkit/core/observe: subscribable observers (the base of @crmkit/react-hooks) as an opt-in crm feature.
export { observers, type ObserversFeature, type ObservedCrm } from './observe-feature.js';
export { Observer, type ObserverSnapshot } from './observer.js';
export type { ObserveApi } from './observe-api.js';
export type { RecordObserver } from './record-observer.js';
export type { ListObserver } from './list-observer.js';
export type { BoardObserver, BoardView, BoardAction, BoardActionResult, BoardMoves } from './board-observer.js';
export type { AgendaObserver, AgendaOptions } from './agenda-observer.js';
export type { TimelineObserver, TimelineData } from './timeline-observer.js';
export { shareRecords } from './structural-sharing.js';

// Entry point of @crmkit/react-hooks. Explicit named exports only: everything here is public API.
export { CrmProvider, useCrm, type CrmProviderProps } from './crm-provider.js';
export type { QueryHookOptions } from './hook-options.js';
export { useObserver } from './use-observer.js';
export { useObserverSelector } from './use-observer-selector.js';
export { useDeal, useLead, useContact, useCompany, useTask } from './record-hooks.js';
export { useDeals, useLeads, useContacts, useCompanies, useTasks, useActivities, usePipelines } from './list-hooks.js';
export { usePipelineBoard, type PipelineBoard, type PipelineBoardOptions } from './use-pipeline-board.js';
export { useBoardColumn, useBoardDealIds, useBoardCard, useBoardSelector, type BoardCard } from './board-selectors.js';
export { useAgenda, type UseAgendaOptions } from './use-agenda.js';
export { useTimeline, type UseTimelineOptions } from './use-timeline.js';
export { useMutation, type Mutation, type MutationResult } from './use-mutation.js';
export { useSyncStatus, type SyncStatusSource } from './use-sync-status.js';

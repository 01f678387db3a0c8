import type { Activity, ActivityField, Company, CompanyField, Contact, ContactField, Deal, DealListOptions, Lead, ListFilter, LeadField, ListOptions, Page, Pipeline, PipelineField, RecordBase, Task, TaskField } from '@crmkit/core';
import type { ListObserver, ObservedCrm, ObserverSnapshot } from '@crmkit/core/observe';
import { useEffect } from 'react';
import type { QueryHookOptions } from './hook-options.js';
import { useObserver } from './use-observer.js';
import { useObserverInstance } from './use-observer-instance.js';

type ListQuery = { where?: ListFilter };
type ListFactory<T extends RecordBase, O extends ListQuery> = (crm: ObservedCrm, query: O, initialData: Page<T> | undefined) => ListObserver<T, O>;

/** A page of a list query, kept current: an effect hands changed queries to the observer (it ignores equal ones). */
function useList<T extends RecordBase, O extends ListQuery>(factory: ListFactory<T, O>, query: O, options: QueryHookOptions<Page<T>> | undefined): ObserverSnapshot<Page<T>> {
  const observer = useObserverInstance((crm) => factory(crm, query, options?.initialData));
  useEffect(() => observer.setOptions(query), [observer, query]);
  return useObserver(observer);
}

/**
 * A page of deals matching a query, kept current. Refetches only when a committed change can affect
 * the page; unchanged deals keep their identity, so memoised rows do not re-render. The query may be
 * an inline object: it is compared by value.
 *
 * @param query `where`, `orderBy`, `limit`, `after`, `rotting` (as `crm.deals.list`).
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot; `data` is `{ items, nextCursor? }`.
 * @example
 * const { data } = useDeals({ where: where.eq('ownerId', 'anna'), orderBy: [{ field: 'value.amount', direction: 'desc' }], limit: 20 });
 * return <ul>{data?.items.map((d) => <DealRow key={d.id} deal={d} />)}</ul>;
 */
export function useDeals(query: DealListOptions = {}, options?: QueryHookOptions<Page<Deal>>): ObserverSnapshot<Page<Deal>> {
  return useList<Deal, DealListOptions>((crm, q, initial) => crm.observe.deals(q, initial), query, options);
}

/**
 * A page of leads matching a query, kept current (see `useDeals`).
 *
 * @param query As `crm.leads.list`.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data } = useLeads({ where: where.eq('status', 'new'), limit: 50 });
 */
export function useLeads(query: ListOptions<LeadField> = {}, options?: QueryHookOptions<Page<Lead>>): ObserverSnapshot<Page<Lead>> {
  return useList<Lead, ListOptions<LeadField>>((crm, q, initial) => crm.observe.leads(q, initial), query, options);
}

/**
 * A page of contacts matching a query, kept current (see `useDeals`).
 *
 * @param query As `crm.contacts.list`.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data } = useContacts({ where: where.eq('companyId', company.id) });
 */
export function useContacts(query: ListOptions<ContactField> = {}, options?: QueryHookOptions<Page<Contact>>): ObserverSnapshot<Page<Contact>> {
  return useList<Contact, ListOptions<ContactField>>((crm, q, initial) => crm.observe.contacts(q, initial), query, options);
}

/**
 * A page of companies matching a query, kept current (see `useDeals`).
 *
 * @param query As `crm.companies.list`.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data } = useCompanies({ orderBy: [{ field: 'name' }] });
 */
export function useCompanies(query: ListOptions<CompanyField> = {}, options?: QueryHookOptions<Page<Company>>): ObserverSnapshot<Page<Company>> {
  return useList<Company, ListOptions<CompanyField>>((crm, q, initial) => crm.observe.companies(q, initial), query, options);
}

/**
 * A page of tasks matching a query, kept current (see `useDeals`).
 *
 * @param query As `crm.tasks.list`.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data } = useTasks({ where: where.and(where.eq('dealId', deal.id), where.eq('status', 'open')) });
 */
export function useTasks(query: ListOptions<TaskField> = {}, options?: QueryHookOptions<Page<Task>>): ObserverSnapshot<Page<Task>> {
  return useList<Task, ListOptions<TaskField>>((crm, q, initial) => crm.observe.tasks(q, initial), query, options);
}

/**
 * A page of logged activities (calls, e-mails, meetings, notes) matching a query, kept current (see `useDeals`).
 *
 * @param query As `crm.activities.list`.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data } = useActivities({ where: where.eq('dealId', deal.id), limit: 10 });
 */
export function useActivities(query: ListOptions<ActivityField> = {}, options?: QueryHookOptions<Page<Activity>>): ObserverSnapshot<Page<Activity>> {
  return useList<Activity, ListOptions<ActivityField>>((crm, q, initial) => crm.observe.activities(q, initial), query, options);
}

/**
 * The tenant's pipelines, kept current (see `useDeals`): a pipeline picker, a board per pipeline.
 *
 * @param query As `crm.pipelines.list` (oldest first by default).
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot; `data.items` are the pipelines with their stages.
 * @example
 * const { data } = usePipelines();
 * return <select>{data?.items.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}</select>;
 */
export function usePipelines(query: ListOptions<PipelineField> = {}, options?: QueryHookOptions<Page<Pipeline>>): ObserverSnapshot<Page<Pipeline>> {
  return useList<Pipeline, ListOptions<PipelineField>>((crm, q, initial) => crm.observe.pipelines(q, initial), query, options);
}

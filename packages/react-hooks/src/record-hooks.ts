import type { Company, Contact, Deal, Lead, RecordBase, Task } from '@crmkit/core';
import type { ObservedCrm, ObserverSnapshot, RecordObserver } from '@crmkit/core/observe';
import { useEffect } from 'react';
import type { QueryHookOptions } from './hook-options.js';
import { useObserver } from './use-observer.js';
import { useObserverInstance } from './use-observer-instance.js';

type RecordFactory<T extends RecordBase> = (crm: ObservedCrm, id: string, initialData: T | undefined) => RecordObserver<T>;

/** One record, kept current: an effect points the observer at a new `id`. */
function useRecord<T extends RecordBase>(factory: RecordFactory<T>, id: string, options: QueryHookOptions<T> | undefined): ObserverSnapshot<T> {
  const observer = useObserverInstance((crm) => factory(crm, id, options?.initialData));
  useEffect(() => observer.setId(id), [observer, id]);
  return useObserver(observer);
}

/**
 * A deal, kept current: re-renders only when this deal changes (any tab, with adapters that propagate).
 * A missing deal is `status: 'error'` with a `NOT_FOUND` error. After `id` changes, `data` is the
 * previous deal with `isFetching: true` until the new one has loaded.
 *
 * @param id The deal's id.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot: `status`, `data`, `error`, `isFetching`.
 * @example
 * function DealTitle({ id }: { id: string }) {
 *   const { status, data, error } = useDeal(id);
 *   if (status === 'loading') return <span>…</span>;
 *   if (status === 'error') return <span role="alert">{error?.message}</span>;
 *   return <h2>{data?.title}</h2>;
 * }
 */
export function useDeal(id: string, options?: QueryHookOptions<Deal>): ObserverSnapshot<Deal> {
  return useRecord<Deal>((crm, i, initial) => crm.observe.deal(i, initial), id, options);
}

/**
 * A lead, kept current (see `useDeal`).
 *
 * @param id The lead's id.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data: lead } = useLead(leadId);
 */
export function useLead(id: string, options?: QueryHookOptions<Lead>): ObserverSnapshot<Lead> {
  return useRecord<Lead>((crm, i, initial) => crm.observe.lead(i, initial), id, options);
}

/**
 * A contact, kept current (see `useDeal`).
 *
 * @param id The contact's id.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data: contact } = useContact(deal.contactId!);
 */
export function useContact(id: string, options?: QueryHookOptions<Contact>): ObserverSnapshot<Contact> {
  return useRecord<Contact>((crm, i, initial) => crm.observe.contact(i, initial), id, options);
}

/**
 * A company, kept current (see `useDeal`).
 *
 * @param id The company's id.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data: company } = useCompany(deal.companyId!);
 */
export function useCompany(id: string, options?: QueryHookOptions<Company>): ObserverSnapshot<Company> {
  return useRecord<Company>((crm, i, initial) => crm.observe.company(i, initial), id, options);
}

/**
 * A task, kept current (see `useDeal`).
 *
 * @param id The task's id.
 * @param options `initialData` for server rendering.
 * @returns The observer snapshot.
 * @example
 * const { data: task } = useTask(taskId);
 */
export function useTask(id: string, options?: QueryHookOptions<Task>): ObserverSnapshot<Task> {
  return useRecord<Task>((crm, i, initial) => crm.observe.task(i, initial), id, options);
}

import type { CrmContext } from '../crm/context.js';
import type { Deal, DealCreateInput } from '../schema/deal.js';
import { createManyDeals, type CreateManyOptions } from './deal-import.js';

/** Bulk imports: many records in one transaction, all or nothing. `crm.imports`. */
export class ImportService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Creates many deals in one transaction (imports, ERP sync), each as `crm.deals.create` would:
   * first stage visit, template tasks and next step (with the tasks feature), `deal.created`.
   * Every input is validated first; problems are reported as `[index, …path]` and nothing is written.
   *
   * @param inputs The deals, at most 1,000,000 (one transaction holds them all).
   * @param options `onProgress(done, total)`, called every `progressEvery` deals (default 1000) and at the end.
   * @returns The created deals, in input order.
   * @throws CrmError `VALIDATION` listing up to 100 problems as `[index, …path]`; nothing is written.
   * @example
   * await crm.imports.deals(rows, { onProgress: (done, total) => console.log(`${done}/${total}`) });
   */
  async deals(inputs: readonly DealCreateInput[], options?: CreateManyOptions): Promise<Deal[]> {
    return createManyDeals(this.ctx, inputs, options);
  }
}

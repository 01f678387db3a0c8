import type { CrmFeature } from '../crm/feature.js';
import type { CrmContext } from '../crm/context.js';
import { runRead } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import { validationError, isCrmError } from '../errors/crm-error.js';
import type { CrmEvent } from '../events/event-map.js';
import { ensureConsumer, type ConsumerRow } from '../consumers/consumer-rows.js';
import type { EventHandler } from '../consumers/consumer-options.js';
import { ConsumerRunner } from '../consumers/consumer-runner.js';
import type { AutomationCause, AutomationRule } from './automation-schema.js';
import { automationOptionsSchema, MESSAGE_CONSUMER, resolveAutomations, RULE_GROUP, ruleConsumerSettings, ruleOfConsumer, type AutomationOptions, type AutomationSettings } from './automation-settings.js';
import { createAutomationService, type AutomationService } from './automation-service.js';
import { executeRun, type RunSettings } from './execute-run.js';
import { conditionsHold, matchEvent } from './match-trigger.js';
import type { AutomationMessage } from './messenger.js';
import { tickAutomations } from './time-triggers.js';

/** The automations feature: adds `crm.automations`. */
export type AutomationsFeature = CrmFeature<'automations', AutomationService>;

/** Rules by id, reloaded when the configuration revision moves (any process) or after a second. */
class RuleCache {
  private rules: Map<string, AutomationRule> | undefined;
  private loadedAt = 0;

  constructor(private readonly ctx: CrmContext) {
    ctx.revision.register(this);
  }

  invalidate(): void {
    this.rules = undefined;
  }

  async get(id: string): Promise<AutomationRule | undefined> {
    const now = this.ctx.clock.now();
    if (!this.rules || now - this.loadedAt >= 1000 || now < this.loadedAt) {
      this.rules = await runRead(this.ctx, async (op) => {
        await this.ctx.revision.ensureFresh(op.tx);
        const { rows } = await op.query<AutomationRule>('automationRule', { limit: 1000 });
        return new Map(rows.map((r) => [r.id, r]));
      });
      this.loadedAt = now;
    }
    return this.rules.get(id);
  }
}

/** The handler of a rule's consumer: match, then run in one transaction with the run-log row. */
function ruleHandler(ctx: CrmContext, settings: AutomationSettings, run: RunSettings, cache: RuleCache, ruleId: string): EventHandler {
  return async (event: CrmEvent, { attempt }) => {
    const rule = await cache.get(ruleId);
    if (!rule?.enabled) return;
    const facts = matchEvent(rule.trigger, event);
    if (!facts) return;
    // Conditions first in a read (most events of a busy rule do not qualify): no write transaction for
    // them. The run's transaction tests them again on the state it reads.
    if (rule.conditions.length || ('pipelineId' in rule.trigger && rule.trigger.pipelineId)) {
      // A creation event carries the record; other events need a read.
      const carried = (event.data as Record<string, unknown>)[event.subjectType] as { id?: string } | undefined;
      const record = carried?.id === event.subjectId && event.type.endsWith('.created') ? carried : await runRead(ctx, (op) => op.get(event.subjectType, event.subjectId));
      if (record && !conditionsHold(rule, record, facts)) return;
    }
    const cause = (event as { cause?: AutomationCause }).cause;
    const request = {
      rule, triggerKey: event.id, subject: { type: event.subjectType, id: event.subjectId }, facts,
      ...(cause ? { cause } : {}),
      rematch: (fresh: AutomationRule) => matchEvent(fresh.trigger, event),
    };
    try {
      await executeRun(ctx, run, request);
    } catch (error) {
      // The last attempt: the run log says why it failed (then the consumer parks the event).
      if (attempt >= settings.maxAttempts && !isCrmError(error, 'CLOSED')) {
        await executeRun(ctx, run, { ...request, failure: error, attempts: attempt }).catch((e: unknown) => ctx.logger.error('crmkit: recording a failed automation run failed', { error: e }));
      }
      throw error;
    }
  };
}

/**
 * Declarative automation rules as a crm feature (needs `events()`): adds `crm.automations`. A rule
 * is trigger + conditions + actions, plain JSON checked at `define` time. Each rule is a durable
 * consumer of the change feed (`automation:<rule id>`), so a failing rule is retried and parked
 * without holding up the others; each (rule, event) runs once — the run-log row, unique per pair,
 * commits with the actions — however many processes run `crm.automations.start()` and whoever
 * crashes. Actions go through the normal services as the service principal (`crm.as`), so funnel
 * rules and its access policy apply. Time triggers and waits are evaluated by `crm.scheduler.tick()`
 * (or `crm.automations.tick()`).
 *
 * @param options Service principal, depth limit, retries, consumer tuning, the host's messenger (see `AutomationOptions`).
 * @returns The feature to pass to `createCrm({ features })`.
 * @throws CrmError `VALIDATION` for unknown or invalid options.
 * @example
 * import { events } from '@crmkit/core/feed';
 * import { automations } from '@crmkit/core/automations';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [tasks(), events(), automations()] });
 * await crm.automations.define({ name: 'Lost on price: follow up', trigger: { type: 'event', event: 'deal.lost' },
 *   conditions: [{ field: 'trigger.data.reason', op: 'eq', value: 'price' }],
 *   actions: [{ type: 'createTask', task: { subject: 'Follow up', type: 'call', due: { amount: 90, unit: 'days' } } }] });
 * crm.automations.start();
 */
export function automations(options: AutomationOptions = {}): AutomationsFeature {
  const { messenger, ...plain } = (options ?? {}) as AutomationOptions;
  if (messenger !== undefined && typeof messenger?.send !== 'function') throw validationError('automations', [{ path: ['messenger'], code: 'invalid_type', message: 'must have send(message, context)' }]);
  const settings = resolveAutomations(parseInput(automationOptionsSchema, plain, 'automations'), messenger);
  return {
    key: 'automations',
    requires: ['events'],
    setup(ctx) {
      const run: RunSettings & { maxAttempts: number } = { principal: settings.principal, maxDepth: settings.maxDepth, maxAttempts: settings.maxAttempts };
      const cache = new RuleCache(ctx);
      const workerId = ctx.newId('worker', ctx.clock.now());
      const rules = new ConsumerRunner(
        ctx,
        {
          claim: { group: RULE_GROUP },
          settings: (row: ConsumerRow) => ruleConsumerSettings(settings, ruleOfConsumer(row.name), row.types),
          handler: (row: ConsumerRow) => ruleHandler(ctx, settings, run, cache, ruleOfConsumer(row.name)),
          workerId,
        },
        {
          concurrency: settings.concurrency,
          pollMs: settings.pollMs,
          partitions: () =>
            runRead(ctx, async (op) => {
              const [row] = await op.tx.aggregate('consumer', op.tenantId, { filter: { op: 'and', filters: [{ op: 'eq', field: 'group', value: RULE_GROUP }, { op: 'eq', field: 'paused', value: false }] }, metrics: { n: { fn: 'count' } } });
              return Number(row?.values.n ?? 0);
            }),
        },
      );
      const runners = [rules];
      const messageConfig = ruleConsumerSettings(settings, undefined, ['automation.message']);
      if (settings.messenger) {
        const send = settings.messenger.send.bind(settings.messenger);
        runners.push(
          new ConsumerRunner(
            ctx,
            {
              claim: { name: MESSAGE_CONSUMER },
              settings: () => messageConfig,
              handler: () => async (event, { signal }) => {
                const data = event.data as unknown as { channel: AutomationMessage['channel']; template: string; data: Record<string, unknown>; ruleId: string; runId: string };
                await send({ channel: data.channel, template: data.template, data: data.data, record: { type: event.subjectType, id: event.subjectId }, ruleId: data.ruleId, runId: data.runId }, { idempotencyKey: event.id, signal });
              },
              workerId,
            },
            { concurrency: 1, pollMs: settings.pollMs, partitions: () => messageConfig.partitions },
          ),
        );
      }
      const tick = () => tickAutomations(ctx, run);
      return {
        api: (viewCtx) => createAutomationService(viewCtx, settings, { runners, run, tick, invalidate: () => cache.invalidate() }),
        hooks: { automations: { tick } },
        async start() {
          // The message consumer starts at the feed's head when first created.
          if (settings.messenger) await ensureConsumer(ctx, messageConfig, { retype: true });
        },
        close: async () => {
          for (const runner of runners) await runner.stop();
        },
      };
    },
  };
}

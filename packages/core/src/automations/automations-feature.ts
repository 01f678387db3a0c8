import type { CrmFeature } from '../crm/feature.js';
import { featureOptions, parseInput } from '../crm/parse-input.js';
import { validationError } from '../errors/crm-error.js';
import { consumerPartitions, ensureConsumer } from '../consumers/consumer-rows.js';
import { runRead } from '../crm/operation.js';
import { ConsumerRunner } from '../consumers/consumer-runner.js';
import { automationOptionsSchema, FEED_CONSUMER, MESSAGE_CONSUMER, resolveAutomations, ruleConsumerSettings, type AutomationOptions } from './automation-settings.js';
import { createAutomationService, type AutomationService } from './automation-service.js';
import { feedHandler, RetryLoop, retryFailedRuns, RuleCache, type FeedRunSettings } from './rule-feed.js';
import type { AutomationMessage } from './messenger.js';
import { tickAutomations, type Sweep } from './time-triggers.js';
import { checkPipelineEdit } from './pipeline-edits.js';

/** The automations feature: adds `crm.automations`. */
export type AutomationsFeature = CrmFeature<'automations', AutomationService>;

/**
 * Declarative automation rules as a crm feature (needs `events()`): adds `crm.automations`. A rule
 * is trigger + conditions + actions, plain JSON checked at `define` time. One durable consumer of
 * the change feed (`crmkit.automations`) reads each event once and runs every enabled rule it starts;
 * a failing run is recorded, retried with backoff (by `tick()` / `drain()`) and then parked without
 * holding up the other rules; each (rule, event) runs once — the run-log row, unique per pair,
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
  const { messenger, ...plain } = featureOptions(options, 'automations');
  if (messenger !== undefined && messenger !== 'external' && typeof messenger?.send !== 'function') throw validationError('automations', [{ path: ['messenger'], code: 'invalid_type', message: "must have send(message, context), or be 'external'" }]);
  const settings = resolveAutomations(parseInput(automationOptionsSchema, plain, 'automations'), messenger);
  return {
    key: 'automations',
    requires: ['events'],
    setup(ctx) {
      const run: FeedRunSettings = { principal: settings.principal, maxDepth: settings.maxDepth, maxAttempts: settings.maxAttempts, backoff: settings.backoff };
      const cache = new RuleCache(ctx);
      const workerId = ctx.newId('worker', ctx.clock.now());
      const feedConfig = ruleConsumerSettings(settings);
      const handler = feedHandler(ctx, run, cache);
      const rules = new ConsumerRunner(
        ctx,
        { claim: { name: FEED_CONSUMER }, settings: () => feedConfig, handler: () => handler, workerId },
        { concurrency: settings.concurrency, pollMs: settings.pollMs, partitions: () => feedConfig.partitions },
      );
      const runners = [rules];
      const messageConfig = ruleConsumerSettings(settings, ['automation.message']);
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
      const retries = new RetryLoop(ctx, run, settings.pollMs);
      // Where each time rule's last sweep left off (this process): a tick reads only what may have changed.
      const sweeps = new Map<string, Sweep>();
      const tick = async () => {
        const { runs } = await tickAutomations(ctx, run, sweeps);
        return { runs: runs + (await retryFailedRuns(ctx, run)) };
      };
      return {
        api: (viewCtx) => createAutomationService(viewCtx, settings, { runners, run, tick, retry: () => retryFailedRuns(ctx, run), retries, feed: feedConfig, invalidate: () => cache.invalidate() }),
        hooks: { automations: { tick, checkPipeline: checkPipelineEdit } },
        async start() {
          // The rules' consumer is created by the first define (a crm without rules holds no feed back);
          // one that exists takes this version's types. Rules start at their own `since`.
          if ((await runRead(ctx, (op) => consumerPartitions(op, FEED_CONSUMER))).length) await ensureConsumer(ctx, feedConfig, { retype: true });
          if (settings.messenger) await ensureConsumer(ctx, messageConfig, { retype: true });
        },
        close: async () => {
          for (const runner of runners) await runner.stop();
          await retries.stop();
        },
      };
    },
  };
}

/** An e-mail or SMS a rule asked for (`sendMessage`), handed to the host's messenger. */
export interface AutomationMessage {
  readonly channel: 'email' | 'sms';
  /** The host's template name. */
  readonly template: string;
  /** Values the rule passed to the template. */
  readonly data: Readonly<Record<string, unknown>>;
  /** The record the rule ran for: the host resolves the recipient from it. */
  readonly record: { readonly type: string; readonly id: string };
  readonly ruleId: string;
  readonly runId: string;
}

/**
 * The host's adapter for e-mail and SMS: crmkit decides *that* a message goes out (once per run,
 * recorded with the run), the host sends it. Delivery is at least once: pass `idempotencyKey` (the
 * `automation.message` event id) to your provider, or dedupe on it.
 */
export interface AutomationMessenger {
  send(message: AutomationMessage, context: { readonly idempotencyKey: string; readonly signal: AbortSignal }): Promise<void>;
}

/** A messenger for tests: keeps the messages it was given, once per idempotency key. */
export interface TestMessenger extends AutomationMessenger {
  readonly sent: readonly (AutomationMessage & { readonly idempotencyKey: string })[];
  /** Makes the next `n` sends fail (to test retries). */
  failNext(n: number): void;
}

/**
 * Creates the test double of `AutomationMessenger`: `sent` lists each message once, whatever the
 * redeliveries.
 *
 * @returns The messenger to pass to `automations({ messenger })`.
 * @example
 * const messenger = createTestMessenger();
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [events(), automations({ messenger })] });
 * // … after a rule with a sendMessage action ran and the messages were delivered:
 * expect(messenger.sent.map((m) => m.template)).toEqual(['welcome']);
 */
export function createTestMessenger(): TestMessenger {
  const sent: (AutomationMessage & { idempotencyKey: string })[] = [];
  let failures = 0;
  return {
    sent,
    failNext(n) {
      failures = n;
    },
    async send(message, { idempotencyKey }) {
      if (failures > 0) {
        failures--;
        throw new Error('test messenger: send failed');
      }
      if (!sent.some((m) => m.idempotencyKey === idempotencyKey)) sent.push({ ...message, idempotencyKey });
    },
  };
}

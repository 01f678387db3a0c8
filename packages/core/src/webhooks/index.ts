// Entry point of @crmkit/core/webhooks: signed webhooks (Standard Webhooks) built on the change feed's consumers.
export { webhooks, type WebhooksFeature } from './webhooks-feature.js';
export type { WebhookService, WebhookEndpointWithSecret } from './webhook-service.js';
export type { WebhookEndpoint, WebhookAttempt, EndpointSecret } from './webhook-delivery.js';
export type { WebhooksOptions, WebhookFetch, WebhookEndpointInput, WebhookEndpointUpdate } from './webhook-options.js';
export { signPayload, generateSecret } from './signing.js';
export type { ConsumerStatus } from '../consumers/consumer-status.js';
export type { DrainReport } from '../consumers/consumer-runner.js';

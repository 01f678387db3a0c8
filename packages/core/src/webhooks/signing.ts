/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}` with the secret's bytes as key, sent as `v1,<base64>`.
 * Web Crypto (`crypto.subtle`) only, so core runs unchanged in Node, browsers, workers and edge runtimes.
 */
import { validationError } from '../errors/crm-error.js';
import { readCallerInput } from '../crm/parse-input.js';

/** Secrets are `whsec_` followed by base64 of 24 to 64 random bytes (Standard Webhooks). */
export const SECRET_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

function subtle(): SubtleCrypto {
  const crypto = (globalThis as { crypto?: Crypto }).crypto;
  if (!crypto?.subtle) throw new Error('crmkit webhooks need Web Crypto (globalThis.crypto.subtle)');
  return crypto.subtle;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return undefined;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** The key bytes of a `whsec_` secret, or a reason why it is not one. */
export function secretKey(secret: string): Uint8Array<ArrayBuffer> | string {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}"`;
  const bytes = fromBase64(secret.slice(SECRET_PREFIX.length));
  if (!bytes) return 'must be "whsec_" followed by base64';
  if (bytes.length < MIN_SECRET_BYTES) return `is too short: ${bytes.length} bytes, at least ${MIN_SECRET_BYTES} are needed`;
  if (bytes.length > MAX_SECRET_BYTES) return `is too long: at most ${MAX_SECRET_BYTES} bytes`;
  return bytes;
}

/** A new random secret: `whsec_` + base64 of 32 random bytes (Web Crypto's generator). */
export function generateSecret(): string {
  const bytes = new Uint8Array(32);
  (globalThis as { crypto: Crypto }).crypto.getRandomValues(bytes);
  return SECRET_PREFIX + toBase64(bytes);
}

/**
 * Signs one message with every given secret (several during a rotation: receivers accept any).
 *
 * @param secrets `whsec_` secrets.
 * @param id The message id (`webhook-id`), stable across retries.
 * @param timestamp Seconds since the epoch (`webhook-timestamp`).
 * @param body The exact request body.
 * @returns The `webhook-signature` header value: `v1,<base64>` entries separated by spaces.
 * @throws CrmError `VALIDATION` for a secret that is no `whsec_` secret (`secrets.<i>`) or arguments of the wrong type.
 */
export async function signPayload(secrets: readonly string[], id: string, timestamp: number, body: string): Promise<string> {
  // Only the caller's arguments are read here: what cannot be read is their VALIDATION.
  const [content, keys] = readCallerInput('signPayload', () => [new TextEncoder().encode(`${id}.${timestamp}.${body}`), secrets.map((s) => (typeof s === 'string' ? secretKey(s) : 'must be a string'))] as const);
  const signatures: string[] = [];
  for (const [i, key] of keys.entries()) {
    if (typeof key === 'string') throw validationError('signPayload', [{ path: ['secrets', i], code: 'invalid_value', message: key }]);
    const hmac = await subtle().importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    signatures.push(`v1,${toBase64(new Uint8Array(await subtle().sign('HMAC', hmac, content)))}`);
  }
  return signatures.join(' ');
}

import type { CrmError } from '@crmkit/core';
import { invalid as invalidInput } from './errors.js';
import { base64url } from './exit-tag.js';

/**
 * What a pull checkpoint says (design sync.md §7); opaque to devices. `p`: the last change position
 * the device holds; `s`: the scope fingerprint it was read under; `r`: inside a reset; `h`: the head
 * when that reset began.
 */
export interface Checkpoint {
  readonly v: 1;
  readonly t: string;
  readonly p: number;
  readonly s: string;
  readonly r?: 1;
  readonly h?: number;
}

/** The checkpoint as the base64url of its JSON. */
export function encodeCheckpoint(checkpoint: Checkpoint): string {
  return base64url(new TextEncoder().encode(JSON.stringify(checkpoint)));
}

const position = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function invalid(code: 'invalid_checkpoint' | 'foreign_checkpoint', message: string): CrmError<'VALIDATION'> {
  return invalidInput('sync.pull', [{ path: ['checkpoint'], code, message }]);
}

/**
 * Reads a checkpoint a device sent.
 *
 * @param text The device's checkpoint string.
 * @param tenantId The server crm's tenant.
 * @throws CrmError `VALIDATION` at `checkpoint`: `invalid_checkpoint` (not one this server makes),
 *   `foreign_checkpoint` (made for another tenant).
 */
export function decodeCheckpoint(text: string, tenantId: string): Checkpoint {
  let value: unknown;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  } catch {
    throw invalid('invalid_checkpoint', 'is not a checkpoint of this server');
  }
  const c = value as Partial<Checkpoint> | null;
  const keys = c && typeof c === 'object' && !Array.isArray(c) ? Object.keys(c) : [];
  const shaped = c && keys.every((k) => 'vtpsrh'.includes(k) && k.length === 1)
    && c.v === 1 && typeof c.t === 'string' && position(c.p) && typeof c.s === 'string' && c.s.length <= 64
    && (c.r === undefined || c.r === 1) && (c.h === undefined || position(c.h));
  if (!shaped) throw invalid('invalid_checkpoint', 'is not a checkpoint of this server');
  if (c.t !== tenantId) throw invalid('foreign_checkpoint', 'was made for another tenant');
  return c as Checkpoint;
}

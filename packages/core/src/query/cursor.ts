import { CrmError } from '../errors/crm-error.js';
import type { Scalar, SortSpec } from './query-spec.js';
import { getPath } from './path.js';
import { unstorableTextReason } from '../domain/storable-text.js';

/** A decoded keyset position: the sort values and id of the last row of a page. */
export interface CursorPosition {
  readonly values: readonly (Scalar | null)[];
  readonly id: string;
}

function sortSignature(sort: readonly SortSpec[]): string {
  return sort.map((s) => `${s.field}:${s.direction ?? 'asc'}`).join(',');
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

/** Opaque, URL-safe text for a JSON value: the form of every cursor crmkit hands out. */
export function encodeOpaque(value: unknown): string {
  return toBase64Url(JSON.stringify(value));
}

/** The JSON value inside a cursor made by `encodeOpaque`, or `undefined` when it is not one. */
export function decodeOpaque(text: unknown): unknown {
  if (typeof text !== 'string' || text.length === 0 || text.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return JSON.parse(fromBase64Url(text)) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Encodes the position after `row` for `sort`. Cursors are opaque to callers but portable between
 * adapters: every adapter uses this encoding.
 */
export function encodeCursor(row: { readonly id: string; readonly [field: string]: unknown }, sort: readonly SortSpec[]): string {
  const values = sort.map((s) => {
    const v = getPath(row, s.field);
    // Sort fields hold scalars; anything else (outside the contract) encodes as missing.
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  });
  return toBase64Url(JSON.stringify({ s: sortSignature(sort), v: values, id: row.id }));
}

/**
 * Decodes a cursor made by `encodeCursor` for the same sort.
 *
 * @throws CrmError `VALIDATION` when the cursor is malformed or was made for another sort order.
 */
export function decodeCursor(cursor: string, sort: readonly SortSpec[]): CursorPosition {
  const invalid = (why: string) =>
    new CrmError('VALIDATION', `Invalid cursor: ${why}`, { issues: [{ path: ['cursor'], code: 'invalid_cursor', message: why }] });
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid('not a cursor returned by crmkit');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(cursor));
  } catch {
    throw invalid('not a cursor returned by crmkit');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not a cursor returned by crmkit');
  const { s, v, id } = parsed as { s?: unknown; v?: unknown; id?: unknown };
  if (s !== sortSignature(sort)) throw invalid('the cursor was made for a different sort order');
  if (typeof id !== 'string' || !Array.isArray(v) || v.length !== sort.length) throw invalid('not a cursor returned by crmkit');
  for (const value of v) {
    if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalid('not a cursor returned by crmkit');
    }
    // JSON escapes can smuggle text no engine agrees on (a lone surrogate, NUL): never a crmkit cursor.
    if (typeof value === 'number' && !Number.isFinite(value)) throw invalid('not a cursor returned by crmkit');
    if (typeof value === 'string' && unstorableTextReason(value)) throw invalid('not a cursor returned by crmkit');
  }
  if (unstorableTextReason(id)) throw invalid('not a cursor returned by crmkit');
  return { values: v as (Scalar | null)[], id };
}

import { type CrmError, isCrmError } from '@crmkit/core';
import { invalid } from '../protocol/errors.js';

/** HTTP statuses other than the code's default (design sync.md §12): 413 for size limits, 409 for a sequence gap, 401 / 405. */
const STATUS = new WeakMap<CrmError, number>();

/** `error`, answered with `status` instead of its code's default. */
export function withStatus<E extends CrmError>(error: E, status: number): E {
  STATUS.set(error, status);
  return error;
}

/** A `VALIDATION` 413 naming the limit (issue code `too_big`). */
export function tooBig(context: string, path: readonly (string | number)[], limit: number, what: string): CrmError<'VALIDATION'> {
  return withStatus(invalid(context, [{ path, code: 'too_big', message: `must be at most ${limit} ${what}` }]), 413);
}

const DEFAULT_STATUS: Readonly<Record<string, number>> = { VALIDATION: 400, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, RULE_VIOLATION: 422, CLOSED: 503 };

/** A JSON response, never cached. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
}

/**
 * The response for an error: `CrmError.toJSON()` with its status (`STORAGE` 503 with `retry-after`
 * when retryable, else 500); anything else is a bug, answered 500 without its message.
 */
export function errorResponse(error: unknown): Response {
  if (!isCrmError(error)) return json({ name: 'Error', code: 'INTERNAL', message: 'Internal server error', details: {} }, 500);
  if (error.code === 'STORAGE') {
    const retryable = (error as CrmError<'STORAGE'>).details.retryable;
    return json(error.toJSON(), retryable ? 503 : 500, retryable ? { 'retry-after': '1' } : {});
  }
  return json(error.toJSON(), STATUS.get(error) ?? DEFAULT_STATUS[error.code] ?? 500);
}

/**
 * Reads a JSON body of at most `limit` bytes (checked on `content-length` and while reading).
 *
 * @throws CrmError `VALIDATION`: 415 without `content-type: application/json`, 413 over the limit, 400 when not JSON.
 */
export async function readJson(request: Request, limit: number, context: string): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw withStatus(invalid(context, [{ path: [], code: 'unsupported_media_type', message: 'must be sent as application/json' }]), 415);
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit) throw tooBig(context, [], limit, 'bytes');
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooBig(context, [], limit, 'bytes');
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    throw invalid(context, [{ path: [], code: 'invalid_json', message: 'is not JSON' }]);
  }
}

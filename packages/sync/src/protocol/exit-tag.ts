/** base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The exit tag of a record (design sync.md §7): the first 16 base64url characters (96 bits) of
 * SHA-256 over `tenantId \0 entity \0 id`. A pull lists it in `gone` when the record was deleted or
 * left the principal's read scope; a device that holds the record knows its tag, one that never held
 * it cannot invert it. `crypto.subtle` (Node 20, browsers, workers, edge runtimes).
 */
export async function exitTag(tenantId: string, entity: string, id: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${tenantId}\0${entity}\0${id}`));
  return base64url(new Uint8Array(digest)).slice(0, 16);
}

/**
 * A record id for a notice key: two 32-bit FNV-1a hashes with different offsets (64 bits), so keys
 * of any length map to short ids and the same key always maps to the same id.
 */
export function noticeId(key: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return `ntf_${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

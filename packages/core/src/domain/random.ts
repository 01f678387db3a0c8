/** A source of randomness. Seed it (`createSeededRandom`) and ids and assignments become reproducible. */
export interface Random {
  /** A uniformly distributed float in [0, 1). */
  next(): number;
}

/**
 * A small, fast seedable generator (sfc32). Not for cryptography; for reproducible ids in tests and
 * deterministic assignment.
 *
 * @example
 * const random = createSeededRandom(42); random.next(); // always the same sequence
 */
export function createSeededRandom(seed: number | string): Random {
  let h = 1779033703 ^ String(seed).length;
  const text = String(seed);
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  const mix = () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return (h ^= h >>> 16) >>> 0;
  };
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  return {
    next() {
      a >>>= 0;
      b >>>= 0;
      c >>>= 0;
      d >>>= 0;
      let t = (a + b) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      d = (d + 1) | 0;
      t = (t + d) | 0;
      c = (c + t) | 0;
      return (t >>> 0) / 4294967296;
    },
  };
}

/** Randomness from the platform's CSPRNG (`crypto.getRandomValues`), available in Node 20, browsers and edge runtimes. */
export function createCryptoRandom(): Random {
  const buffer = new Uint32Array(64);
  let index = buffer.length;
  return {
    next() {
      if (index >= buffer.length) {
        globalThis.crypto.getRandomValues(buffer);
        index = 0;
      }
      return buffer[index++]! / 4294967296;
    },
  };
}

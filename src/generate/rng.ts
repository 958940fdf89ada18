/**
 * A small seeded PRNG (xoshiro128**, seeded through splitmix32) so that generation is reproducible:
 * the same seed gives the same music, in Node and in a browser.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed: number, stream = 0): Rng {
  const init = splitmix32((Math.imul(seed | 0, 0x27d4eb2d) ^ Math.imul(stream | 0, 0x165667b1)) >>> 0);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1;
  return {
    next(): number {
      const result = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
      return result / 4294967296;
    },
  };
}

/** A seed for when the user gives none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * A small seeded PRNG (mulberry32): fault injection and fuzzing draw from it, so a run that
 * failed can be replayed exactly from the seed it printed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for a run that was not given one. */
export const freshSeed = (): number => Math.floor(Math.random() * 2 ** 32);

// mulberry32: a small seeded generator of numbers in [0, 1), so that a
// test or bench run with a given seed is the same every time and a
// failing one can be replayed. Shared by the Node, end-to-end and
// checker tests and by the benches.

/** A generator seeded with `seed` (any 32-bit integer). */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

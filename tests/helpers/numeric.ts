// Seeded random data and the comparison every kernel test uses: |a - r| <= atol + rtol * |r|.
import type { AnyTypedArray } from '../../src/index';

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normally distributed values (Box-Muller), times `scale`. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Throws naming the worst element when any |actual - ref| > atol + rtol * |ref| (NaN always fails). */
export function expectClose(actual: AnyTypedArray | Float64Array, ref: Float64Array, tol: Tolerance, what = 'result'): void {
  if (actual.length !== ref.length) throw new Error(`${what}: length ${actual.length}, expected ${ref.length}`);
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(actual[i] - ref[i]);
    const bound = tol.atol + tol.rtol * Math.abs(ref[i]);
    if (!(err <= bound)) {
      bad++;
      const excess = Number.isNaN(err) ? Infinity : err / bound;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad > 0) {
    throw new Error(
      `${what}: ${bad} of ${ref.length} elements out of tolerance (atol ${tol.atol}, rtol ${tol.rtol}); ` +
        `worst at ${worst}: got ${actual[worst]}, expected ${ref[worst]}`,
    );
  }
}

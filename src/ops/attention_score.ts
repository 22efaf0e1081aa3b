// The attention score hook on the CPU: shaders/lib/score.wgsl's definition in float64, for every
// attention reference, and the uniforms and override constants that turn its modifiers on in a kernel.
// One place defines which keys a query sees (its sequence, the causal mask, a sliding window, key
// padding) and what a score becomes (scale, soft-cap, ALiBi).
import { ArgumentError } from '../errors';

/** What happens to a score between q·k and the softmax. Every field is optional; none is the plain scaled dot product. */
export interface ScoreMods {
  /** Multiplies q·k (default 1 / sqrt(headDim)). */
  scale?: number;
  /** Gemma 2's logit soft-capping: s → softcap · tanh(s / softcap). */
  softcap?: number;
  /**
   * ALiBi with this maximum bias (8 for BLOOM and MPT): head h's slope is llama.cpp's (and BLOOM's)
   * m0^(h+1) for the first 2^floor(log2 H) heads, then odd powers of m1, and the score loses
   * slope · |q_pos − k_pos| (in a causal model, slope · (k_pos − q_pos) as BLOOM adds it).
   */
  alibi?: number;
  /** Sliding window: a query sees only keys with |q_pos − k_pos| < window (Mistral's with causal). */
  window?: number;
}

/** Checks the modifiers' values; `op` names the op in the error. */
export function checkScoreMods(op: string, m: ScoreMods): void {
  const bad = (name: string, v: number | undefined, what: string) => {
    if (v !== undefined) throw new ArgumentError(`${op}: ${name} ${v} must be ${what}`);
  };
  if (m.scale !== undefined && !(Number.isFinite(m.scale) && m.scale > 0)) bad('scale', m.scale, 'a positive number');
  if (m.softcap !== undefined && !(Number.isFinite(m.softcap) && m.softcap > 0)) bad('softcap', m.softcap, 'a positive number');
  if (m.alibi !== undefined && !(Number.isFinite(m.alibi) && m.alibi > 0)) bad('alibi', m.alibi, 'a positive maximum bias (8 for BLOOM)');
  if (m.window !== undefined && !(Number.isInteger(m.window) && m.window >= 1 && m.window <= 0xffffffff))
    bad('window', m.window, 'a positive integer');
}

/** ALiBi's m0, m1 and n for `heads` heads and maximum bias `maxBias` (llama.cpp's ggml_soft_max_ext). */
function alibiBase(heads: number, maxBias: number): { m0: number; m1: number; n: number } {
  const n = 2 ** Math.floor(Math.log2(heads));
  return { m0: 2 ** (-maxBias / n), m1: 2 ** (-maxBias / 2 / n), n };
}

/** The ALiBi slope of each of `heads` heads. */
export function alibiSlopes(heads: number, maxBias: number): Float64Array {
  const { m0, m1, n } = alibiBase(heads, maxBias);
  return Float64Array.from({ length: heads }, (_, h) => (h < n ? m0 ** (h + 1) : m1 ** (2 * (h - n) + 1)));
}

/** The keys [lo', hi') the query at qPos sees among its sequence's keys [lo, hi) (lib/score's visible_keys). */
export function visibleKeys(qPos: number, lo: number, hi: number, causal: boolean, m: ScoreMods): [number, number] {
  let a = lo;
  let b = hi;
  if (causal) b = Math.min(b, qPos + 1);
  if (m.window) {
    a = Math.max(a, qPos + 1 - m.window);
    b = Math.min(b, qPos + m.window);
  }
  return [a, b];
}

/** The score the softmax sees, from s = scale · q·k (lib/score's score_mod). */
export function scoreMod(s: number, qPos: number, kPos: number, slope: number, m: ScoreMods): number {
  let x = s;
  if (m.softcap) x = m.softcap * Math.tanh(x / m.softcap);
  if (m.alibi) x -= slope * Math.abs(qPos - kPos);
  return x;
}

/**
 * The kernel side of the hook: override constants (which modifiers exist) and uniform fields (their
 * values) for `heads` query heads per batch row.
 */
export function scoreKernel(m: ScoreMods, heads: number, causal: boolean) {
  const a = m.alibi ? alibiBase(heads, m.alibi) : { m0: 0, m1: 0, n: 0 };
  return {
    constants: { CAUSAL: causal ? 1 : 0, SOFTCAP: m.softcap ? 1 : 0, ALIBI: m.alibi ? 1 : 0, WINDOW: m.window ? 1 : 0 },
    uniforms: { softcap: m.softcap ?? 0, alibi_m0: a.m0, alibi_m1: a.m1, alibi_n: a.n, window: m.window ?? 0 },
  };
}

/** A float64 attention problem: q [H, T, D], k and v [H / group, S, D], and the masks that apply. */
export interface AttentionProblem extends ScoreMods {
  H: number;
  T: number;
  S: number;
  D: number;
  /** Query heads per KV head (default 1). */
  group?: number;
  causal?: boolean;
  /** Query t sits at position t + qOffset (default S - T). */
  qOffset?: number;
  /** Keys that count (default S): keys from `length` on are hidden. */
  length?: number;
  /** Packed sequences: their starts, n + 1 values from 0 to T = S. A query sees its own sequence's keys. */
  cuSeqlens?: ArrayLike<number>;
  /** Key padding [B, S]: 0 hides a key from the query heads of batch row h / (H / B). */
  keyMask?: ArrayLike<number>;
}

/** One query row over chosen keys, in float64: Σ e^(s - m) v over the keys, m (their max score) and l = Σ e^(s - m). */
export interface RowPartial {
  acc: Float64Array;
  m: number;
  l: number;
}

/**
 * Query row `qRow` of q (at position qPos, ALiBi slope `slope`) against `keys` of the KV head whose rows
 * start at row `kvRow` of k and v: scores scale · q·k through scoreMod.
 */
export function attendRow(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  D: number,
  qRow: number,
  kvRow: number,
  keys: readonly number[],
  qPos: number,
  slope: number,
  scale: number,
  m: ScoreMods,
): RowPartial {
  const scores = keys.map((j) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += q[qRow * D + d] * k[(kvRow + j) * D + d];
    return scoreMod(s * scale, qPos, j, slope, m);
  });
  const max = scores.length ? Math.max(...scores) : -3.4028234663852886e38;
  const w = scores.map((s) => Math.exp(s - max));
  const acc = new Float64Array(D);
  keys.forEach((j, i) => {
    for (let d = 0; d < D; d++) acc[d] += w[i] * v[(kvRow + j) * D + d];
  });
  return { acc, m: max, l: w.reduce((a, x) => a + x, 0) };
}

/** Dense float64 attention under the score hook; rows with no visible key are zero. */
export function attentionReference(q: Float64Array, k: Float64Array, v: Float64Array, p: AttentionProblem): Float64Array {
  const { H, T, S, D } = p;
  const group = p.group ?? 1;
  const qOffset = p.qOffset ?? S - T;
  const length = p.length ?? S;
  const scale = p.scale ?? 1 / Math.sqrt(D);
  const perBatch = p.keyMask ? H / (p.keyMask.length / S) : H;
  const slopes = p.alibi ? alibiSlopes(perBatch, p.alibi) : null;
  const cu = p.cuSeqlens ? Array.from(p.cuSeqlens) : [0, length];
  const out = new Float64Array(H * T * D);
  for (let h = 0; h < H; h++) {
    const b = Math.floor(h / perBatch);
    for (let t = 0; t < T; t++) {
      const qPos = t + qOffset;
      const seq = p.cuSeqlens ? cu.findIndex((c, i) => c <= t && t < cu[i + 1]) : 0;
      const [lo, hi] = visibleKeys(qPos, cu[seq], Math.min(cu[seq + 1], length), !!p.causal, p);
      const keys = Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i).filter((j) => !p.keyMask || p.keyMask[b * S + j]);
      const r = attendRow(q, k, v, D, h * T + t, Math.floor(h / group) * S, keys, qPos, slopes ? slopes[h % perBatch] : 0, scale, p);
      if (r.l > 0) for (let d = 0; d < D; d++) out[(h * T + t) * D + d] = r.acc[d] / r.l;
    }
  }
  return out;
}

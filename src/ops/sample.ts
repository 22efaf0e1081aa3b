// sample: the next token id (u32 [1]) from the last row of logits [rows, V]: greedy when
// temperature ≤ 0, else temperature, top-k and top-p (as Hugging Face applies them) and a seeded
// draw. Every parameter may be a per-run scalar. Kernel: shaders/sample.wgsl. Where no logit can be
// picked (every one NaN or -∞) the id is SAMPLE_NONE, which callers must check: the op cannot raise
// from the GPU, and the models' generate() turns it into a NumericError.
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { tuned } from './grid';
import { withReduce } from './reduce';
import type { OpDescriptor, UniformValue } from './types';

export interface SampleAttrs {
  temperature?: UniformValue;
  /** 0 keeps every token. */
  topK?: UniformValue;
  /** 1 keeps every token. */
  topP?: UniformValue;
  seed?: UniformValue;
  /** Mixed into the seed so each step draws a fresh number. */
  step?: UniformValue;
}

/** PCG hash, as the shader computes it (u32 arithmetic). */
export function pcgHash(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The uniform number in [0, 1) the kernel draws for (seed, step). */
export function sampleUniform(seed: number, step: number): number {
  return (pcgHash((pcgHash(seed) ^ step) >>> 0) >>> 8) / 16777216;
}

/**
 * The id `sample` returns when no logit can be picked: every logit of the row NaN or -∞ (none above
 * -3.4028235e38, where the kernel's argmax starts). Not a token: check for it before using the id.
 */
export const SAMPLE_NONE = 0xffffffff;

const F32_MAX = 3.4028234663852886e38;

/** Sampling settings as the kernel reads them (temperature ≤ 0: greedy). */
export interface SamplingParams {
  temperature: number;
  topK: number;
  topP: number;
}

/**
 * Float64: the tokens the draw may pick after temperature, top-k and top-p (as the kernel and Hugging
 * Face's warpers choose them), likeliest first, with z = logits / temperature, its max m and the kept
 * mass W = Σ exp(z - m). Greedy (temperature ≤ 0) keeps only the argmax.
 */
function keptTokens(row: ArrayLike<number>, p: SamplingParams): { arg: number; z: number[]; m: number; kept: number[]; W: number } {
  const V = row.length;
  // As the kernel's argmax: the first of the largest logits above -F32_MAX, so NaN never wins (0 when
  // none is: sampleReference returns SAMPLE_NONE before it gets here).
  let arg = 0;
  let best = -F32_MAX;
  for (let i = 0; i < V; i++)
    if (row[i] > best) {
      best = row[i];
      arg = i;
    }
  if (p.temperature <= 0) return { arg, z: [], m: 0, kept: [arg], W: 1 };
  const z = Array.from(row, (x) => x / p.temperature);
  const m = z[arg];
  const order = [...z.keys()].sort((a, b) => z[b] - z[a] || a - b);
  let kept = p.topK > 0 && p.topK < V ? order.slice(0, p.topK) : order;
  if (p.topP < 1) {
    const total = kept.reduce((s, i) => s + Math.exp(z[i] - m), 0);
    let cum = 0;
    let n = 0;
    while (n < kept.length && cum < p.topP * total) cum += Math.exp(z[kept[n++]] - m);
    kept = kept.slice(0, Math.max(1, n));
  }
  return { arg, z, m, kept, W: kept.reduce((s, i) => s + Math.exp(z[i] - m), 0) };
}

/** Float64 reference: same selection rules and the same draw (SAMPLE_NONE where no logit can be picked). */
export function sampleReference(row: ArrayLike<number>, p: SamplingParams & { seed: number; step: number }): number {
  if (!Array.prototype.some.call(row, (x: number) => x > -F32_MAX)) return SAMPLE_NONE;
  const { arg, z, m, kept, W } = keptTokens(row, p);
  if (p.temperature <= 0) return arg;
  const keep = new Set(kept);
  const u = sampleUniform(p.seed, p.step) * W;
  let cum = 0;
  let last = arg;
  for (let i = 0; i < row.length; i++) {
    if (!keep.has(i)) continue;
    last = i;
    cum += Math.exp(z[i] - m);
    if (cum > u) return i;
  }
  return last;
}

/** One next-token candidate: its logit, its probability at the temperature, and after top-k / top-p. */
export interface TokenCandidate {
  id: number;
  logit: number;
  /** softmax(logits / temperature) (at temperature 1 when greedy): the distribution before any cut. */
  p: number;
  /** What the draw samples from: p renormalised over the tokens top-k and top-p keep, 0 for a cut one (greedy: 1 for the argmax). */
  kept: number;
}

/**
 * Float64: the n likeliest next tokens of one row of logits under these sampling settings, likeliest
 * first. `p` shows what the temperature does, `kept` what top-k and top-p then leave to the draw.
 */
export function tokenCandidates(row: ArrayLike<number>, p: SamplingParams, n: number): TokenCandidate[] {
  const V = row.length;
  const T = p.temperature > 0 ? p.temperature : 1;
  let m = -Infinity;
  for (let i = 0; i < V; i++) m = Math.max(m, row[i] / T);
  let Z = 0;
  for (let i = 0; i < V; i++) Z += Math.exp(row[i] / T - m);
  const { kept, W, m: mk } = keptTokens(row, p);
  const keptP = new Map(p.temperature > 0 ? kept.map((i) => [i, Math.exp(row[i] / T - mk) / W]) : [[kept[0], 1]]);
  const top = [...Array(V).keys()].sort((a, b) => row[b] - row[a] || a - b).slice(0, Math.max(0, n));
  return top.map((id) => ({ id, logit: row[id], p: Math.exp(row[id] / T - m) / Z, kept: keptP.get(id) ?? 0 }));
}

/**
 * Threads of the one sampling workgroup the tuning table may choose (`sample.WG`): powers of two (the
 * argmax and lib/reduce trees halve) up to 256 (lib/reduce's slots). WG sizes the shader's workgroup
 * arrays, and top-p gathers its candidates once at most WG are left.
 */
export const SAMPLE_WG = [32, 64, 128, 256];

export const sample: OpDescriptor<SampleAttrs> = {
  name: 'sample',
  inputs: ['logits'],
  shader: withReduce('sample'),
  infer([x]) {
    if (x?.dtype !== 'f32' || x.shape.length < 1)
      throw new ShapeError(`sample: logits must be f32 [..., V], got ${x ? `${x.dtype} ${formatShape(x.shape)}` : 'nothing'}`);
    return { shape: [1], dtype: 'u32' };
  },
  kernel([x], _o, a, ctx) {
    const V = x.shape[x.shape.length - 1];
    const { WG } = tuned(ctx.tuning, 'sample', { WG: 256 });
    if (!SAMPLE_WG.includes(WG)) throw new ShapeError(`sample: tuning WG=${WG} is not one of ${SAMPLE_WG.join(', ')}`);
    return {
      entry: 'main',
      constants: { WG },
      uniforms: {
        V,
        row_offset: numel(x.shape) - V,
        temperature: a.temperature ?? 0,
        top_k: a.topK ?? 0,
        top_p: a.topP ?? 1,
        seed: a.seed ?? 0,
        step: a.step ?? 0,
      },
      grid: [1, 1, 1],
    };
  },
  reference([x], [info], a) {
    const V = info.shape[info.shape.length - 1];
    const num = (v: UniformValue | undefined, d: number) => (typeof v === 'number' ? v : d);
    const id = sampleReference(x.subarray(x.length - V), {
      temperature: num(a.temperature, 0),
      topK: num(a.topK, 0),
      topP: num(a.topP, 1),
      seed: num(a.seed, 0),
      step: num(a.step, 0),
    });
    return new Float64Array([id]);
  },
  bytes: ([x]) => x.shape[x.shape.length - 1] * 4,
};

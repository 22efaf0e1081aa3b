// sample: the next token id (u32 [1]) from the last row of logits [rows, V]: greedy when
// temperature ≤ 0, else temperature, top-k and top-p (as Hugging Face applies them) and a seeded
// draw. Every parameter may be a per-run scalar. Kernel: shaders/sample.wgsl.
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

/** Float64 reference: same selection rules and the same draw. */
export function sampleReference(
  row: ArrayLike<number>,
  p: { temperature: number; topK: number; topP: number; seed: number; step: number },
): number {
  const V = row.length;
  let arg = 0;
  for (let i = 1; i < V; i++) if (row[i] > row[arg]) arg = i;
  if (p.temperature <= 0) return arg;
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
  const keep = new Set(kept);
  const W = kept.reduce((s, i) => s + Math.exp(z[i] - m), 0);
  const u = sampleUniform(p.seed, p.step) * W;
  let cum = 0;
  let last = arg;
  for (let i = 0; i < V; i++) {
    if (!keep.has(i)) continue;
    last = i;
    cum += Math.exp(z[i] - m);
    if (cum > u) return i;
  }
  return last;
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

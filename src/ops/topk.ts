// topk: the k largest entries of scores [N] (or [1, N]), skipping listed indices, as u32 [2k]:
// indices then the scores' f32 bits. Long rows go in two stages: topk_partial (each workgroup a chunk,
// output [chunks, 2k]) then topk_merge. Kernel: shaders/topk.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import type { OpDescriptor, UniformValue } from './types';

export interface TopKAttrs {
  k: number;
  /** How many entries of the exclude input count (a number or a plan scalar). */
  exclude?: UniformValue;
}

/** Scores per workgroup in the first stage; rows up to this length take one stage. */
export const TOPK_CHUNK = 8192;

const shader = compose('topk');

function checkScores(op: string, [scores, exclude]: readonly { shape: readonly number[]; dtype: string }[], a: TopKAttrs) {
  if (scores?.dtype !== 'f32') throw new ShapeError(`${op}: scores must be f32, got ${scores ? formatShape(scores.shape) : 'nothing'}`);
  if (exclude?.dtype !== 'u32') throw new ShapeError(`${op}: needs a u32 exclude list (may be all unused)`);
  const N = numel(scores.shape);
  if (!(Number.isInteger(a.k) && a.k >= 1 && a.k <= Math.min(N, 256)))
    throw new ShapeError(`${op}: k = ${a.k} must be between 1 and ${Math.min(N, 256)}`);
  return N;
}

export const topk: OpDescriptor<TopKAttrs> = {
  name: 'topk',
  inputs: ['scores', 'exclude'],
  shader,
  infer(inputs, a) {
    checkScores('topk', inputs, a);
    return { shape: [2 * a.k], dtype: 'u32' };
  },
  kernel([scores], _o, a) {
    const N = numel(scores.shape);
    return { entry: 'main', constants: { WG: 256 }, uniforms: { N, k: a.k, n_exclude: a.exclude ?? 0, chunk: N }, grid: [1, 1, 1] };
  },
  reference([scores, exclude], _i, a) {
    const skip = new Set(Array.from(exclude.subarray(0, typeof a.exclude === 'number' ? a.exclude : 0)));
    const order = [...scores.keys()]
      .filter((i) => !skip.has(i))
      .sort((x, y) => scores[y] - scores[x] || x - y)
      .slice(0, a.k);
    const out = new Float64Array(2 * a.k);
    order.forEach((i, r) => {
      out[r] = i;
      out[a.k + r] = scores[i];
    });
    return out;
  },
};

/** First stage: each workgroup's top-k of its chunk, [chunks, 2k]. */
export const topkPartial: OpDescriptor<TopKAttrs> = {
  name: 'topk_partial',
  inputs: ['scores', 'exclude'],
  shader,
  infer(inputs, a) {
    const N = checkScores('topk_partial', inputs, a);
    return { shape: [Math.ceil(N / TOPK_CHUNK), 2 * a.k], dtype: 'u32' };
  },
  kernel([scores], out, a) {
    return {
      entry: 'main',
      constants: { WG: 256 },
      uniforms: { N: numel(scores.shape), k: a.k, n_exclude: a.exclude ?? 0, chunk: TOPK_CHUNK },
      grid: [out.shape[0], 1, 1],
    };
  },
  /** The two stages together give topk's answer; the reference of the pair is topk's. */
  reference(inputs, infos, a) {
    const N = numel(infos[0].shape);
    const whole = topk.reference(inputs, infos, a);
    const out = new Float64Array(Math.ceil(N / TOPK_CHUNK) * 2 * a.k).fill(0xffffffff);
    out.set(whole);
    return out;
  },
};

/** Second stage: the top-k of the chunks' candidates, u32 [2k]. */
export const topkMerge: OpDescriptor<{ k: number }> = {
  name: 'topk_merge',
  inputs: ['candidates'],
  shader,
  infer([partial], a) {
    if (partial?.dtype !== 'u32' || partial.shape.length !== 2 || partial.shape[1] !== 2 * a.k) {
      throw new ShapeError(
        `topk_merge: candidates must be u32 [chunks, ${2 * a.k}], got ${partial ? formatShape(partial.shape) : 'nothing'}`,
      );
    }
    return { shape: [2 * a.k], dtype: 'u32' };
  },
  kernel([partial], _o, a) {
    return { entry: 'merge', constants: { WG: 256 }, uniforms: { N: partial.shape[0], k: a.k }, grid: [1, 1, 1] };
  },
  reference([partial], [info], a) {
    const k = a.k;
    const cands: [number, number][] = [];
    for (let g = 0; g < info.shape[0]; g++) {
      for (let r = 0; r < k; r++) {
        const i = partial[g * 2 * k + r];
        if (i !== 0xffffffff) cands.push([new Float32Array(new Uint32Array([partial[g * 2 * k + k + r]]).buffer)[0], i]);
      }
    }
    cands.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
    const out = new Float64Array(2 * k).fill(0xffffffff);
    cands.slice(0, k).forEach(([v, i], r) => {
      out[r] = i;
      out[k + r] = new Uint32Array(new Float32Array([v]).buffer)[0];
    });
    return out;
  },
};

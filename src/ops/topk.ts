// topk: the k largest entries of scores [N] (or [1, N]), skipping listed indices, as u32 [2k]:
// indices then the scores' f32 bits. Kernel: shaders/topk.wgsl.
import code from '../../shaders/topk.wgsl?raw';
import { ShapeError, formatShape } from '../gpu/errors';
import { numel } from '../tensor';
import type { OpDescriptor, UniformValue } from './types';

export interface TopKAttrs {
  k: number;
  /** How many entries of the exclude input count (a number or a plan scalar). */
  exclude?: UniformValue;
}

export const topk: OpDescriptor<TopKAttrs> = {
  name: 'topk',
  shader: { name: 'topk', code },
  infer([scores, exclude], a) {
    if (!scores || scores.dtype !== 'f32') throw new ShapeError(`topk: scores must be f32, got ${scores ? formatShape(scores.shape) : 'nothing'}`);
    if (!exclude || exclude.dtype !== 'u32') throw new ShapeError('topk: needs a u32 exclude list (may be all unused)');
    const N = numel(scores.shape);
    if (!(Number.isInteger(a.k) && a.k >= 1 && a.k <= N)) throw new ShapeError(`topk: k = ${a.k} must be between 1 and ${N}`);
    return { shape: [2 * a.k], dtype: 'u32' };
  },
  kernel([scores], _o, a) {
    return { entry: 'main', constants: { WG: 256 }, uniforms: { N: numel(scores.shape), k: a.k, n_exclude: a.exclude ?? 0 }, grid: [1, 1, 1] };
  },
  reference([scores, exclude], _i, a) {
    const skip = new Set(Array.from(exclude.subarray(0, typeof a.exclude === 'number' ? a.exclude : 0)));
    const order = [...scores.keys()].filter((i) => !skip.has(i)).sort((x, y) => scores[y] - scores[x] || x - y).slice(0, a.k);
    const out = new Float64Array(2 * a.k);
    order.forEach((i, r) => {
      out[r] = i;
      out[a.k + r] = scores[i];
    });
    return out;
  },
};

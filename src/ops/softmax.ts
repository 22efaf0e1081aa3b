// softmax over the last dimension, numerically stable (max subtracted), in one online max-and-sum
// pass and one write pass. Kernel: shaders/softmax.wgsl.
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D, tuned } from './grid';
import { compose } from '../wgsl/compose';
import { rowWorkgroup } from './layernorm';
import type { OpDescriptor } from './types';

/** Threads per row the tuning table may choose (powers of two: the workgroup-memory tree halves). */
export const SOFTMAX_WG = [32, 64, 128, 256];

export const softmax: OpDescriptor<Record<string, never>> = {
  name: 'softmax',
  inputs: ['x'],
  // lib/maxsum → its subgroup twin where the adapter has subgroups (one barrier instead of a tree).
  shader: (ctx) =>
    ctx.features.subgroups
      ? compose('softmax', { aliases: { 'lib/maxsum': 'lib/maxsum_subgroup' }, name: 'softmax+subgroups' })
      : compose('softmax'),
  infer(inputs) {
    const [x] = inputs;
    if (!x || inputs.length !== 1) throw new ShapeError('softmax: needs one input');
    if (x.dtype !== 'f32') throw new ShapeError(`softmax: input must be f32, got ${x.dtype} ${formatShape(x.shape)}`);
    return { shape: x.shape, dtype: 'f32' };
  },
  kernel(inputs, _o, _a, ctx) {
    const N = inputs[0].shape[inputs[0].shape.length - 1];
    // Up to 64 elements per thread per pass: short rows use one small workgroup each (fewer barriers).
    // Long rows take up to `softmax.WG` threads (tuning): 256 by default, for a GPU's few long rows
    // (16 × 50257 logits is 16 workgroups); the autotuner finds 32 best on SwiftShader, which pays
    // for each 4-lane subgroup of a workgroup with barriers as a coroutine of its own.
    const { WG } = tuned(ctx.tuning, 'softmax', { WG: 256 });
    if (!SOFTMAX_WG.includes(WG)) throw new ShapeError(`softmax: tuning WG=${WG} for rows of ${N} is not one of ${SOFTMAX_WG.join(', ')}`);
    return {
      entry: N % 4 === 0 ? 'main_vec4' : 'main',
      constants: { WG: Math.min(rowWorkgroup(N, 64), WG) },
      uniforms: { N },
      grid: grid1D(numel(inputs[0].shape) / N, 1, ctx.limits),
    };
  },
  reference([x], infos) {
    const N = infos[0].shape[infos[0].shape.length - 1];
    const out = new Float64Array(x.length);
    for (let r = 0; r < x.length / N; r++) {
      let m = -Infinity;
      for (let c = 0; c < N; c++) m = Math.max(m, x[r * N + c]);
      let s = 0;
      for (let c = 0; c < N; c++) s += Math.exp(x[r * N + c] - m);
      for (let c = 0; c < N; c++) out[r * N + c] = Math.exp(x[r * N + c] - m) / s;
    }
    return out;
  },
  flops: (inputs) => 4 * numel(inputs[0].shape),
  bytes: (inputs) => 2 * numel(inputs[0].shape) * 4,
};

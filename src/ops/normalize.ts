// normalize: each row of [..., D] scaled to unit L2 norm. Kernel: shaders/normalize.wgsl.
import { ShapeError } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import { withReduce } from './reduce';
import type { OpDescriptor } from './types';

export const normalize: OpDescriptor<Record<string, never>> = {
  name: 'normalize',
  inputs: ['x'],
  shader: withReduce('normalize'),
  infer([x]) {
    if (x?.dtype !== 'f32') throw new ShapeError('normalize: needs one f32 input');
    return x;
  },
  kernel([x], _o, _a, ctx) {
    const D = x.shape[x.shape.length - 1];
    return { entry: 'main', constants: { WG: 64 }, uniforms: { D }, grid: grid1D(numel(x.shape) / D, 1, ctx.limits) };
  },
  reference([x], [info]) {
    const D = info.shape[info.shape.length - 1];
    const out = new Float64Array(x.length);
    for (let r = 0; r < x.length / D; r++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[r * D + d] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let d = 0; d < D; d++) out[r * D + d] = x[r * D + d] * inv;
    }
    return out;
  },
  bytes: ([x]) => 2 * numel(x.shape) * 4,
};

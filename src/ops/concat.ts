// concat: two tensors joined along the last dimension (leading dimensions equal). Kernel: shaders/concat.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import type { OpDescriptor } from './types';

export const concat: OpDescriptor<Record<string, never>> = {
  name: 'concat',
  inputs: ['a', 'b'],
  shader: compose('concat'),
  infer([a, b]) {
    const same = a && b && a.shape.length === b.shape.length && a.shape.slice(0, -1).every((d, i) => d === b.shape[i]);
    if (!same || a.dtype !== 'f32' || b.dtype !== 'f32')
      throw new ShapeError(
        `concat: ${a ? formatShape(a.shape) : '?'} and ${b ? formatShape(b.shape) : '?'} must be f32 with equal leading dimensions`,
      );
    return { shape: [...a.shape.slice(0, -1), a.shape[a.shape.length - 1] + b.shape[b.shape.length - 1]], dtype: 'f32' };
  },
  kernel([a, b], out, _a, ctx) {
    const na = a.shape[a.shape.length - 1];
    const nb = b.shape[b.shape.length - 1];
    return {
      entry: 'main',
      constants: { WG: 256 },
      uniforms: { rows: numel(a.shape) / na, na, nb },
      grid: grid1D(numel(out.shape), 256, ctx.limits),
    };
  },
  reference([a, b], [ia, ib]) {
    const na = ia.shape[ia.shape.length - 1];
    const nb = ib.shape[ib.shape.length - 1];
    const rows = a.length / na;
    const out = new Float64Array(rows * (na + nb));
    for (let r = 0; r < rows; r++) {
      out.set(a.subarray(r * na, (r + 1) * na), r * (na + nb));
      out.set(b.subarray(r * nb, (r + 1) * nb), r * (na + nb) + na);
    }
    return out;
  },
  bytes: (_i, out) => 2 * numel(out.shape) * 4,
};

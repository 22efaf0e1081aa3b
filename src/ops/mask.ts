// causal_mask: scores [H, T, S] scaled, with keys after each query's position masked to -inf-like.
// Only the unfused attention baseline uses it. Kernel: shaders/mask.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import type { OpDescriptor } from './types';

export interface MaskAttrs {
  scale: number;
  qOffset?: number;
}

export const causalMask: OpDescriptor<MaskAttrs> = {
  name: 'causal_mask',
  inputs: ['x'],
  shader: compose('mask'),
  infer([x]) {
    if (x?.shape.length !== 3 || x.dtype !== 'f32')
      throw new ShapeError(`causal_mask: scores must be f32 [H, T, S], got ${x ? formatShape(x.shape) : 'nothing'}`);
    return x;
  },
  kernel([x], _o, a, ctx) {
    const [, T, S] = x.shape;
    const len = numel(x.shape);
    return {
      entry: 'main',
      constants: { WG: 256 },
      uniforms: { T, S, scale: a.scale, q_offset: a.qOffset ?? S - T, len },
      grid: grid1D(len, 256, ctx.limits),
    };
  },
  reference([x], [info], a) {
    const [, T, S] = info.shape;
    const off = a.qOffset ?? S - T;
    return x.map((v, i) => (i % S > (Math.floor(i / S) % T) + off ? -3.402823e38 : v * a.scale));
  },
  bytes: ([x]) => 2 * numel(x.shape) * 4,
};

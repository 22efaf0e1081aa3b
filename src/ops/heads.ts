// splitHeads: [T, parts * C] -> [H, T, D] (part 0/1/2 of a fused QKV projection); mergeHeads:
// [H, T, D] -> [T, H * D]. Kernel: shaders/heads.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import type { OpDescriptor } from './types';

const WG = 256;
const shader = compose('heads');

export interface SplitHeadsAttrs {
  heads: number;
  /** How many [T, C] blocks the row holds (3 for fused QKV) and which one to take. */
  parts: number;
  part: number;
}

export const splitHeads: OpDescriptor<SplitHeadsAttrs> = {
  name: 'split_heads',
  inputs: ['x'],
  shader,
  infer([x], a) {
    if (x?.shape.length !== 2) throw new ShapeError(`split_heads: input must be [T, C], got ${x ? formatShape(x.shape) : 'nothing'}`);
    const C = x.shape[1] / a.parts;
    if (!Number.isInteger(C) || C % a.heads !== 0 || !(a.part >= 0 && a.part < a.parts)) {
      throw new ShapeError(
        `split_heads: ${formatShape(x.shape)} does not split into ${a.parts} parts of ${a.heads} heads (part ${a.part})`,
      );
    }
    return { shape: [a.heads, x.shape[0], C / a.heads], dtype: x.dtype };
  },
  kernel([x], out, a, ctx) {
    const [H, T, D] = out.shape;
    return {
      entry: 'split_heads',
      constants: { WG },
      uniforms: { T, H, D, row: x.shape[1], part: a.part },
      grid: grid1D(H * T * D, WG, ctx.limits),
    };
  },
  reference([x], [info], a) {
    const T = info.shape[0];
    const row = info.shape[1];
    const C = row / a.parts;
    const D = C / a.heads;
    const out = new Float64Array(a.heads * T * D);
    for (let h = 0; h < a.heads; h++)
      for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) out[(h * T + t) * D + d] = x[t * row + a.part * C + h * D + d];
    return out;
  },
  bytes: (_i, out) => 2 * numel(out.shape) * 4,
};

export const mergeHeads: OpDescriptor<Record<string, never>> = {
  name: 'merge_heads',
  inputs: ['x'],
  shader,
  infer([x]) {
    if (x?.shape.length !== 3) throw new ShapeError(`merge_heads: input must be [H, T, D], got ${x ? formatShape(x.shape) : 'nothing'}`);
    const [H, T, D] = x.shape;
    return { shape: [T, H * D], dtype: x.dtype };
  },
  kernel([x], out, _a, ctx) {
    const [H, T, D] = x.shape;
    return {
      entry: 'merge_heads',
      constants: { WG },
      uniforms: { T, H, D, row: H * D, part: 0 },
      grid: grid1D(numel(out.shape), WG, ctx.limits),
    };
  },
  reference([x], [info]) {
    const [H, T, D] = info.shape;
    const out = new Float64Array(x.length);
    for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) out[t * H * D + h * D + d] = x[(h * T + t) * D + d];
    return out;
  },
  bytes: (_i, out) => 2 * numel(out.shape) * 4,
};

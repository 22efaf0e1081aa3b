// layerNorm over the last dimension with gamma/beta [C] and eps (PyTorch semantics, biased variance),
// optionally of x + residual. Kernel: shaders/layernorm.wgsl (+ lib/reduce.wgsl).
import { LimitError, ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import { withReduce } from './reduce';
import type { OpDescriptor, TensorInfo } from './types';

export interface LayerNormAttrs {
  eps: number;
  /** Inputs end with a residual of x's shape, added before normalising. */
  residual?: boolean;
}

/** Workgroup size: the smallest power of two from 32 to 256 that covers the row in ≤ 4 passes. */
export function rowWorkgroup(elementsPerRow: number): number {
  let wg = 32;
  while (wg < 256 && wg * 4 < elementsPerRow) wg *= 2;
  return wg;
}

function same(a: TensorInfo, b: TensorInfo) {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

export const layerNorm: OpDescriptor<LayerNormAttrs> = {
  name: 'layernorm',
  inputs: ['x', 'gamma', 'beta', 'residual?'],
  shader: withReduce('layernorm'),
  infer(inputs, attrs) {
    const [x, gamma, beta, residual] = inputs;
    if (!x || !gamma || !beta || inputs.length !== (attrs.residual ? 4 : 3)) {
      throw new ShapeError(`layernorm: needs x, gamma, beta${attrs.residual ? ', residual' : ''}; got ${inputs.length} inputs`);
    }
    const C = x.shape[x.shape.length - 1];
    for (const [name, t] of [
      ['gamma', gamma],
      ['beta', beta],
    ] as const) {
      if (t.shape.length !== 1 || t.shape[0] !== C)
        throw new ShapeError(`layernorm: ${name} ${formatShape(t.shape)} must be [${C}] for x ${formatShape(x.shape)}`);
    }
    if (residual && !same(x, residual))
      throw new ShapeError(`layernorm: residual ${formatShape(residual.shape)} must match x ${formatShape(x.shape)}`);
    if (!(attrs.eps > 0)) throw new ShapeError(`layernorm: eps must be positive, got ${attrs.eps}`);
    if (C > 16 * 256) throw new LimitError(`layernorm: rows of ${C} elements exceed the kernel's limit of 4096`);
    for (const t of inputs) if (t.dtype !== 'f32') throw new ShapeError(`layernorm: inputs must be f32, got ${t.dtype}`);
    return { shape: x.shape, dtype: 'f32' };
  },
  kernel(inputs, _output, attrs, ctx) {
    const C = inputs[0].shape[inputs[0].shape.length - 1];
    const rows = numel(inputs[0].shape) / C;
    const vec4 = C % 4 === 0;
    return {
      entry: vec4 ? 'main_vec4' : 'main',
      constants: { WG: rowWorkgroup(C / 4), HAS_RESIDUAL: attrs.residual ? 1 : 0 },
      uniforms: { C, eps: attrs.eps },
      grid: grid1D(rows, 1, ctx.limits),
    };
  },
  reference([x, gamma, beta, residual], infos, attrs) {
    const C = infos[0].shape[infos[0].shape.length - 1];
    const out = new Float64Array(x.length);
    for (let r = 0; r < x.length / C; r++) {
      const v = Array.from({ length: C }, (_, c) => x[r * C + c] + (residual ? residual[r * C + c] : 0));
      const mean = v.reduce((a, b) => a + b, 0) / C;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
      const inv = 1 / Math.sqrt(variance + attrs.eps);
      for (let c = 0; c < C; c++) out[r * C + c] = (v[c] - mean) * inv * gamma[c] + beta[c];
    }
    return out;
  },
  flops: (inputs) => 8 * numel(inputs[0].shape),
  bytes: (inputs, output) => (inputs.reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4,
};

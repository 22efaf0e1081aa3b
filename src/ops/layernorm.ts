// layerNorm over the last dimension with gamma/beta [C] and eps (PyTorch semantics, biased variance),
// and rmsNorm (Llama's), optionally of x + residual. Kernel: shaders/layernorm.wgsl (+ lib/reduce.wgsl).
import { LimitError, ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import { withReduce } from './reduce';
import type { KernelContext, OpDescriptor, TensorInfo } from './types';

export interface LayerNormAttrs {
  eps: number;
  /** Inputs end with a residual of x's shape, added before normalising. */
  residual?: boolean;
}

/**
 * Workgroup size for one row per workgroup: the smallest power of two from 32 to 256 whose threads
 * cover the row with at most `perThread` elements each. Short rows get small workgroups: each level
 * of a workgroup reduction is a barrier, and on SwiftShader those dominate rows of a thousand
 * (softmax 1024×1024: 106 → 54 ms going from 16 to 64 elements per thread).
 */
export function rowWorkgroup(elementsPerRow: number, perThread: number): number {
  let wg = 32;
  while (wg < 256 && wg * perThread < elementsPerRow) wg *= 2;
  return wg;
}

function same(a: TensorInfo, b: TensorInfo) {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** Checks a norm's inputs (x, its [C] parameters, an optional residual) and returns C. */
function checkNorm(
  op: string,
  x: TensorInfo,
  params: [string, TensorInfo | undefined][],
  residual: TensorInfo | undefined,
  attrs: LayerNormAttrs,
  count: number,
): number {
  if (!x || params.some(([, t]) => !t) || count !== params.length + 1 + (attrs.residual ? 1 : 0)) {
    throw new ShapeError(`${op}: needs x, ${params.map(([n]) => n).join(', ')}${attrs.residual ? ', residual' : ''}; got ${count} inputs`);
  }
  const C = x.shape[x.shape.length - 1];
  for (const [name, t] of params) {
    if (t!.shape.length !== 1 || t!.shape[0] !== C)
      throw new ShapeError(`${op}: ${name} ${formatShape(t!.shape)} must be [${C}] for x ${formatShape(x.shape)}`);
  }
  if (residual && !same(x, residual))
    throw new ShapeError(`${op}: residual ${formatShape(residual.shape)} must match x ${formatShape(x.shape)}`);
  if (!(attrs.eps > 0)) throw new ShapeError(`${op}: eps must be positive, got ${attrs.eps}`);
  if (C > 16 * 256) throw new LimitError(`${op}: rows of ${C} elements exceed the kernel's limit of 4096`);
  for (const t of [x, ...params.map(([, p]) => p!), ...(residual ? [residual] : [])])
    if (t.dtype !== 'f32') throw new ShapeError(`${op}: inputs must be f32, got ${t.dtype}`);
  return C;
}

function normKernel(inputs: readonly TensorInfo[], attrs: LayerNormAttrs, ctx: KernelContext, rms: boolean) {
  const C = inputs[0].shape[inputs[0].shape.length - 1];
  const rows = numel(inputs[0].shape) / C;
  return {
    entry: C % 4 === 0 ? 'main_vec4' : 'main',
    constants: { WG: rowWorkgroup(C, 32), HAS_RESIDUAL: attrs.residual ? 1 : 0, RMS: rms ? 1 : 0 },
    uniforms: { C, eps: attrs.eps },
    grid: grid1D(rows, 1, ctx.limits),
  };
}

/** Float64 norm of each row of x (+ residual): (v − mean) / √(var + eps) · gamma + beta, or v / √(mean(v²) + eps) · gamma. */
function normReference(
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array | null,
  residual: Float64Array | undefined,
  C: number,
  eps: number,
) {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / C; r++) {
    const v = Array.from({ length: C }, (_, c) => x[r * C + c] + (residual ? residual[r * C + c] : 0));
    const mean = beta ? v.reduce((a, b) => a + b, 0) / C : 0;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < C; c++) out[r * C + c] = (v[c] - mean) * inv * gamma[c] + (beta ? beta[c] : 0);
  }
  return out;
}

export const layerNorm: OpDescriptor<LayerNormAttrs> = {
  name: 'layernorm',
  inputs: ['x', 'gamma', 'beta', 'residual?'],
  shader: withReduce('layernorm'),
  infer(inputs, attrs) {
    const [x, gamma, beta, residual] = inputs;
    checkNorm(
      'layernorm',
      x,
      [
        ['gamma', gamma],
        ['beta', beta],
      ],
      residual,
      attrs,
      inputs.length,
    );
    return { shape: x.shape, dtype: 'f32' };
  },
  kernel: (inputs, _output, attrs, ctx) => normKernel(inputs, attrs, ctx, false),
  reference: ([x, gamma, beta, residual], infos, attrs) =>
    normReference(x, gamma, beta, residual, infos[0].shape[infos[0].shape.length - 1], attrs.eps),
  flops: (inputs) => 8 * numel(inputs[0].shape),
  bytes: (inputs, output) => (inputs.reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4,
};

/**
 * RMS norm over the last dimension (Llama's LlamaRMSNorm): x / √(mean(x²) + eps) · gamma, no mean
 * subtracted and no beta; optionally of x + residual. The layer norm kernel with RMS set.
 */
export const rmsNorm: OpDescriptor<LayerNormAttrs> = {
  name: 'rmsnorm',
  inputs: ['x', 'gamma', 'beta?', 'residual?'], // beta is never given: its binding reads nothing
  shader: withReduce('layernorm'),
  infer(inputs, attrs) {
    const [x, gamma, residual] = inputs;
    checkNorm('rmsnorm', x, [['gamma', gamma]], residual, attrs, inputs.length);
    return { shape: x.shape, dtype: 'f32' };
  },
  kernel: (inputs, _output, attrs, ctx) => normKernel(inputs, attrs, ctx, true),
  reference: ([x, gamma, residual], infos, attrs) =>
    normReference(x, gamma, null, residual, infos[0].shape[infos[0].shape.length - 1], attrs.eps),
  flops: (inputs) => 4 * numel(inputs[0].shape),
  bytes: (inputs, output) => (inputs.reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4,
};

// Element-wise ops: add and mul (b equal to a, or a trailing part of a's shape broadcast over the
// leading dims, e.g. a bias [N] over [T, N]) and GELU (tanh form). Kernel: shaders/elementwise.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import { geluReference } from './matmul';
import type { OpDescriptor, TensorInfo } from './types';

const WG = 256;
const shader = compose('elementwise');

function requireF32(op: string, inputs: readonly TensorInfo[]): void {
  for (const t of inputs) {
    if (t.dtype !== 'f32') throw new ShapeError(`${op}: inputs must be f32, got ${t.dtype} ${formatShape(t.shape)}`);
  }
}

/** b broadcasts over a when b's shape (leading 1s dropped) is a trailing part of a's shape. */
function broadcastsOver(a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  while (i < b.length - 1 && b[i] === 1) i++;
  const core = b.slice(i);
  if (core.length > a.length) return false;
  return core.every((d, j) => d === a[a.length - core.length + j]);
}

function binaryOp(name: 'add' | 'mul', opCode: number, apply: (x: number, y: number) => number): OpDescriptor<Record<string, never>> {
  return {
    name,
    inputs: ['a', 'b'],
    shader,
    infer(inputs) {
      requireF32(name, inputs);
      const [a, b] = inputs;
      if (!a || !b || inputs.length !== 2) throw new ShapeError(`${name}: needs exactly two inputs`);
      if (!broadcastsOver(a.shape, b.shape)) {
        throw new ShapeError(
          `${name}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast (the second must equal the first or a trailing part of it)`,
        );
      }
      return { shape: a.shape, dtype: 'f32' };
    },
    kernel(inputs, output, _attrs, ctx) {
      const len = numel(output.shape);
      const lenB = numel(inputs[1].shape);
      const vec4 = len % 4 === 0 && lenB % 4 === 0;
      const n = vec4 ? len / 4 : len;
      return {
        entry: vec4 ? 'binary_vec4' : 'binary',
        constants: { WG, OP: opCode },
        uniforms: { len: n, len_b: vec4 ? lenB / 4 : lenB },
        grid: grid1D(n, WG, ctx.limits),
      };
    },
    reference([a, b]) {
      const out = new Float64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = apply(a[i], b[i % b.length]);
      return out;
    },
    flops: (_i, output) => numel(output.shape),
    bytes: (inputs, output) => (numel(inputs[0].shape) + numel(inputs[1].shape) + numel(output.shape)) * 4,
  };
}

export const add = binaryOp('add', 0, (x, y) => x + y);
export const mul = binaryOp('mul', 1, (x, y) => x * y);

export const gelu: OpDescriptor<Record<string, never>> = {
  name: 'gelu',
  inputs: ['a'],
  shader,
  infer(inputs) {
    requireF32('gelu', inputs);
    if (inputs.length !== 1) throw new ShapeError(`gelu: needs exactly one input, got ${inputs.length}`);
    return { shape: inputs[0].shape, dtype: 'f32' };
  },
  kernel(_inputs, output, _attrs, ctx) {
    const len = numel(output.shape);
    const vec4 = len % 4 === 0;
    const n = vec4 ? len / 4 : len;
    return {
      entry: vec4 ? 'unary_vec4' : 'unary',
      constants: { WG, OP: 0 },
      uniforms: { len: n, len_b: 0 },
      grid: grid1D(n, WG, ctx.limits),
    };
  },
  reference([a]) {
    return a.map(geluReference);
  },
  flops: (_i, output) => 8 * numel(output.shape),
  bytes: (_i, output) => 2 * numel(output.shape) * 4,
};

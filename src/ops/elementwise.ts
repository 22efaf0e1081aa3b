// Element-wise ops: add and mul (b equal to a, or a trailing part of a's shape broadcast over the
// leading dims, e.g. a bias [N] over [T, N]), GELU (tanh form) and `activation` (GELU's exact erf form,
// ReLU, SiLU, tanh) with float64 references. Kernel: shaders/elementwise.wgsl.
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

/** The functions of the `activation` op (GELU's tanh form is the `gelu` op, which matmul fuses). */
export type ActivationFn = 'gelu_erf' | 'relu' | 'silu' | 'tanh';
export const ACTIVATIONS: readonly ActivationFn[] = ['gelu_erf', 'relu', 'silu', 'tanh'];
/** Each function's OP code in elementwise.wgsl's unary_op (0 is gelu's tanh form). */
const UNARY_CODE: Record<ActivationFn, number> = { gelu_erf: 1, relu: 2, silu: 3, tanh: 4 };

export interface ActivationAttrs {
  fn: ActivationFn;
}

/** A unary op over f32 of any shape, elementwise.wgsl's unary entry with OP `code`. */
function unaryOp<A>(name: string, code: (attrs: A) => number, apply: (x: number, attrs: A) => number, flops: number): OpDescriptor<A> {
  return {
    name,
    inputs: ['a'],
    shader,
    infer(inputs, attrs) {
      requireF32(name, inputs);
      if (inputs.length !== 1) throw new ShapeError(`${name}: needs exactly one input, got ${inputs.length}`);
      code(attrs); // checks the attributes
      return { shape: inputs[0].shape, dtype: 'f32' };
    },
    kernel(_inputs, output, attrs, ctx) {
      const len = numel(output.shape);
      const vec4 = len % 4 === 0;
      const n = vec4 ? len / 4 : len;
      return {
        entry: vec4 ? 'unary_vec4' : 'unary',
        constants: { WG, OP: code(attrs) },
        uniforms: { len: n, len_b: 0 },
        grid: grid1D(n, WG, ctx.limits),
      };
    },
    reference([a], _infos, attrs) {
      return a.map((x) => apply(x, attrs));
    },
    flops: (_i, output) => flops * numel(output.shape),
    bytes: (_i, output) => 2 * numel(output.shape) * 4,
  };
}

export const gelu = unaryOp<Record<string, never>>('gelu', () => 0, geluReference, 8);

/** GELU's exact form (BERT's hidden_act 'gelu'), ReLU, SiLU or tanh, chosen by `fn`. */
export const activation = unaryOp<ActivationAttrs>(
  'activation',
  (a) => {
    const code = UNARY_CODE[a?.fn];
    if (code === undefined || !Object.hasOwn(UNARY_CODE, a.fn))
      throw new ShapeError(`activation: fn must be one of ${ACTIVATIONS.join(', ')}; got ${JSON.stringify(a?.fn)}`);
    return code;
  },
  (x, a) => activationReference(a.fn, x),
  12,
);

/** The activation in float64. */
export function activationReference(fn: ActivationFn, x: number): number {
  switch (fn) {
    case 'gelu_erf':
      return x < 0 ? 0.5 * x * erfc(-x / Math.SQRT2) : x - 0.5 * x * erfc(x / Math.SQRT2);
    case 'relu':
      return Math.max(x, 0);
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
  }
}

/**
 * erfc(x) in float64 to ~1e-14 relative for x ≥ 0: the Maclaurin series of erf below 2.5 (its largest
 * term there is ~500, so ~1e-13 is lost to cancellation), Laplace's continued fraction above it.
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    let sum = 0;
    let term = x; // (-1)^n x^(2n+1) / n!
    for (let n = 0; n < 200; n++) {
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
      term *= (-x * x) / (n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail.
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

// Copies: `assign` writes a value into a state tensor in place (flat, or row-strided for a KV cache),
// at a static or per-run (scalar) offset; `slice` takes a contiguous range of rows.
// Kernel: shaders/copy.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { grid1D } from './grid';
import { checkUniformValue, type OpDescriptor, type UniformValue } from './types';

const WG = 256;
const shader = compose('copy');

export interface AssignAttrs {
  /** Element offset into the state: a number, or a plan scalar (e.g. position × head dim). */
  offset?: UniformValue;
  /** View the value as [outer, rows, rowLen] and write row r of outer o at o*dstOuter + r*dstRow. */
  strided?: { outer: number; rows: number; rowLen: number; dstRow: number; dstOuter: number };
}

function layout(valueLen: number, a: AssignAttrs) {
  return a.strided ?? { outer: 1, rows: 1, rowLen: valueLen, dstRow: valueLen, dstOuter: valueLen };
}

/** Elements from the offset to the end of the last row written. */
function extent(l: ReturnType<typeof layout>): number {
  return (l.outer - 1) * l.dstOuter + (l.rows - 1) * l.dstRow + l.rowLen;
}

export const assign: OpDescriptor<AssignAttrs> = {
  name: 'assign',
  inputs: ['state', 'value'],
  shader,
  infer(inputs, attrs) {
    const [state, value] = inputs;
    if (!state || !value || inputs.length !== 2) throw new ShapeError('assign: needs a state and a value');
    const half = state.dtype === 'f16' && value.dtype === 'f32'; // f32 values packed into a half state
    if (state.dtype !== value.dtype && !half)
      throw new ShapeError(`assign: value dtype ${value.dtype} differs from state dtype ${state.dtype}`);
    const n = numel(value.shape);
    const l = layout(n, attrs);
    if (l.outer * l.rows * l.rowLen !== n) {
      throw new ShapeError(`assign: value ${formatShape(value.shape)} is not [${l.outer}, ${l.rows}, ${l.rowLen}]`);
    }
    if (half) {
      const odd = [l.rowLen, l.dstRow, l.dstOuter].find((x) => x % 2 !== 0);
      if (
        odd !== undefined ||
        (typeof attrs.offset === 'number' && attrs.offset % 2 !== 0) ||
        (typeof attrs.offset === 'object' && attrs.offset && (attrs.offset.scale ?? 1) % 2 !== 0)
      )
        throw new ShapeError('assign: into an f16 state, rows, strides and offsets must be even (two halves per word)');
    }
    checkUniformValue('assign', 'offset', attrs.offset);
    const offset = typeof attrs.offset === 'number' ? attrs.offset : 0;
    const last = offset + extent(l);
    if (last > numel(state.shape)) {
      throw new ShapeError(
        `assign: value ${formatShape(value.shape)} at offset ${offset} does not fit in state ${formatShape(state.shape)}`,
      );
    }
    return { shape: state.shape, dtype: state.dtype };
  },
  kernel(inputs, _output, attrs, ctx) {
    const len = numel(inputs[1].shape);
    const l = layout(len, attrs);
    const half = inputs[0].dtype === 'f16';
    return {
      entry: half ? 'assign_half' : 'assign',
      constants: { WG },
      uniforms: {
        len,
        row_len: l.rowLen,
        rows: l.rows,
        offset: attrs.offset ?? 0,
        dst_row: l.dstRow,
        dst_outer: l.dstOuter,
        capacity: numel(inputs[0].shape),
      },
      grid: grid1D(half ? len / 2 : len, WG, ctx.limits),
      ranges: {
        offset: { min: 0, max: numel(inputs[0].shape) - extent(l), what: `write offset into state ${formatShape(inputs[0].shape)}` },
      },
    };
  },
  /** The state after the write (a scalar offset is taken as 0 here; tests pass numbers). */
  reference([state, value], _infos, attrs) {
    const out = Float64Array.from(state);
    const l = layout(value.length, attrs);
    const offset = typeof attrs.offset === 'number' ? attrs.offset : 0;
    for (let i = 0; i < value.length; i++) {
      const c = i % l.rowLen;
      const r = Math.floor(i / l.rowLen) % l.rows;
      const o = Math.floor(i / (l.rowLen * l.rows));
      const dst = offset + o * l.dstOuter + r * l.dstRow + c;
      if (dst < out.length) out[dst] = value[i];
    }
    return out;
  },
  bytes: (inputs) => 2 * numel(inputs[1].shape) * 4,
};

export interface SliceAttrs {
  /** First row (along the first dimension): a number, or a plan scalar (e.g. the last real row of a padded prompt). */
  start: UniformValue;
  count: number;
}

export const slice: OpDescriptor<SliceAttrs> = {
  name: 'slice',
  inputs: ['value'],
  shader,
  infer(inputs, attrs) {
    const [x] = inputs;
    if (!x || inputs.length !== 1) throw new ShapeError('slice: needs one input');
    const rows = x.shape[0];
    checkUniformValue('slice', 'start', attrs.start);
    const start = typeof attrs.start === 'number' ? attrs.start : 0; // a scalar's range is checked at run()
    if (!(Number.isInteger(attrs.count) && attrs.count >= 1 && start + attrs.count <= rows)) {
      throw new ShapeError(`slice: rows [${start}, ${start + attrs.count}) are outside ${formatShape(x.shape)}`);
    }
    return { shape: [attrs.count, ...x.shape.slice(1)], dtype: x.dtype };
  },
  kernel(inputs, output, attrs, ctx) {
    const rowLen = numel(inputs[0].shape.slice(1));
    const len = numel(output.shape);
    const s = attrs.start;
    const offset = typeof s === 'number' ? s * rowLen : { ...s, scale: (s.scale ?? 1) * rowLen, add: (s.add ?? 0) * rowLen };
    return {
      entry: 'slice',
      constants: { WG },
      uniforms: { len, row_len: rowLen, rows: 1, offset, capacity: numel(inputs[0].shape) },
      grid: grid1D(len, WG, ctx.limits),
      ranges: { offset: { min: 0, max: (inputs[0].shape[0] - attrs.count) * rowLen, what: 'first element' } },
    };
  },
  reference([x], infos, attrs) {
    const rowLen = numel(infos[0].shape.slice(1));
    const start = attrs.start as number; // a scalar arrives here as the number fed
    return x.slice(start * rowLen, (start + attrs.count) * rowLen);
  },
  bytes: (_inputs, output) => 2 * numel(output.shape) * 4,
};

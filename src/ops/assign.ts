// assign: copies a value into a state tensor in place, at a static or per-run (scalar) element
// offset. The node's output is the state itself. Kernel: shaders/assign.wgsl.
import code from '../../shaders/assign.wgsl?raw';
import { ShapeError, formatShape } from '../gpu/errors';
import { numel } from '../tensor';
import { grid1D } from './grid';
import type { OpDescriptor, UniformValue } from './types';

export interface AssignAttrs {
  /** Element offset into the state: a number, or a plan scalar (e.g. position × row size). */
  offset?: UniformValue;
}

const WG = 256;

export const assign: OpDescriptor<AssignAttrs> = {
  name: 'assign',
  shader: { name: 'assign', code },
  infer(inputs, attrs) {
    const [state, value] = inputs;
    if (!state || !value || inputs.length !== 2) throw new ShapeError('assign: needs a state and a value');
    if (state.dtype !== value.dtype) throw new ShapeError(`assign: value dtype ${value.dtype} differs from state dtype ${state.dtype}`);
    const offset = typeof attrs.offset === 'number' ? attrs.offset : 0;
    if (numel(value.shape) + offset > numel(state.shape)) {
      throw new ShapeError(`assign: value ${formatShape(value.shape)} at offset ${offset} does not fit in state ${formatShape(state.shape)}`);
    }
    return { shape: state.shape, dtype: state.dtype };
  },
  kernel(inputs, _output, attrs, ctx) {
    const len = numel(inputs[1].shape);
    return {
      entry: 'main',
      constants: { WG },
      uniforms: { len, offset: attrs.offset ?? 0, capacity: numel(inputs[0].shape) },
      grid: grid1D(len, WG, ctx.limits),
      inputs: [1],
    };
  },
  /** The state after the write, with a static offset (scalar offsets are given as `offset` here). */
  reference([state, value], _infos, attrs) {
    const out = Float64Array.from(state);
    const offset = typeof attrs.offset === 'number' ? attrs.offset : 0;
    for (let i = 0; i < value.length && offset + i < out.length; i++) out[offset + i] = value[i];
    return out;
  },
  bytes: (inputs) => 2 * numel(inputs[1].shape) * 4,
};

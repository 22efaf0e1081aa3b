// repetition_penalty: logits [1, V] with the tokens of history[0..length) penalised as Hugging Face's
// RepetitionPenaltyLogitsProcessor does (positive logits divided by the penalty, negative multiplied),
// before sampling. `length` and `penalty` may be per-run scalars. Kernel: shaders/penalty.wgsl.
// append_ids: writes ids into a u32 state at an offset (the history). Kernel: shaders/append_ids.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { ceilDiv } from './grid';
import { checkUniformValue, type OpDescriptor, type UniformValue } from './types';

export interface PenaltyAttrs {
  /** > 0; 1 leaves the logits as they are. A number or a plan scalar. */
  penalty: UniformValue;
  /** How many ids of history count. */
  length: UniformValue;
}

export const repetitionPenalty: OpDescriptor<PenaltyAttrs> = {
  name: 'repetition_penalty',
  inputs: ['logits', 'history'],
  shader: compose('penalty'),
  infer([logits, history], a) {
    if (logits?.dtype !== 'f32' || numel(logits.shape) !== logits.shape[logits.shape.length - 1])
      throw new ShapeError(`repetition_penalty: logits must be one f32 row, got ${logits ? formatShape(logits.shape) : 'nothing'}`);
    if (history?.dtype !== 'u32' || history.shape.length !== 1)
      throw new ShapeError(`repetition_penalty: history must be u32 [n], got ${history ? formatShape(history.shape) : 'nothing'}`);
    checkUniformValue('repetition_penalty', 'length', a.length);
    if (typeof a.length === 'number' && a.length > history.shape[0])
      throw new ShapeError(`repetition_penalty: length ${a.length} exceeds the history's ${history.shape[0]} ids`);
    if (typeof a.penalty === 'number' && !(a.penalty > 0 && Number.isFinite(a.penalty)))
      throw new ShapeError(`repetition_penalty: penalty must be a finite number > 0, got ${a.penalty}`);
    return { shape: logits.shape, dtype: 'f32' };
  },
  kernel([logits, history], _o, a) {
    return {
      entry: 'main',
      constants: { WG: 256 },
      uniforms: { V: numel(logits.shape), length: a.length, penalty: a.penalty },
      grid: [1, 1, 1],
      ranges: { length: { min: 0, max: history.shape[0], what: 'history length' } },
    };
  },
  reference([logits, history], _infos, a) {
    const out = Float64Array.from(logits);
    const n = a.length as number;
    const p = a.penalty as number;
    for (const id of new Set(Array.from(history.subarray(0, n)))) {
      if (id < out.length) out[id] = logits[id] > 0 ? logits[id] / p : logits[id] * p;
    }
    return out;
  },
};

export interface AppendAttrs {
  /** Where the first id goes: a number or a plan scalar. */
  offset: UniformValue;
}

export const appendIds: OpDescriptor<AppendAttrs> = {
  name: 'append_ids',
  inputs: ['state', 'ids'],
  shader: compose('append_ids'),
  infer([state, ids], a) {
    if (state?.dtype !== 'u32' || ids?.dtype !== 'u32' || state.shape.length !== 1 || ids.shape.length !== 1)
      throw new ShapeError(
        `append_ids: state and ids must be u32 vectors, got ${state ? formatShape(state.shape) : 'nothing'} and ${ids ? formatShape(ids.shape) : 'nothing'}`,
      );
    checkUniformValue('append_ids', 'offset', a.offset);
    if (typeof a.offset === 'number' && a.offset + ids.shape[0] > state.shape[0])
      throw new ShapeError(`append_ids: ${ids.shape[0]} ids at ${a.offset} run past the state's ${state.shape[0]}`);
    return { shape: state.shape, dtype: 'u32' };
  },
  kernel([state, ids], _o, a) {
    return {
      entry: 'main',
      constants: {},
      uniforms: { T: ids.shape[0], offset: a.offset },
      grid: [ceilDiv(ids.shape[0], 64), 1, 1],
      ranges: { offset: { min: 0, max: state.shape[0] - ids.shape[0], what: 'history position' } },
    };
  },
  reference([state, ids], _infos, a) {
    const out = Float64Array.from(state);
    out.set(ids, a.offset as number);
    return out;
  },
};

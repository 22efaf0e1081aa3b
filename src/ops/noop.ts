// noop: one thread writes one u32; the dispatch-overhead floor benchmarks compare against.
// Kernel: shaders/noop.wgsl.
import { compose } from '../wgsl/compose';
import type { OpDescriptor } from './types';

export const noop: OpDescriptor<{ value?: number }> = {
  name: 'noop',
  inputs: [],
  shader: compose('noop'),
  infer: () => ({ shape: [1], dtype: 'u32' }),
  kernel: (_i, _o, a) => ({ entry: 'main', uniforms: { value: a.value ?? 0 }, grid: [1, 1, 1] }),
  reference: (_i, _infos, a) => new Float64Array([a.value ?? 0]),
};

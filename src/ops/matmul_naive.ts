// matmul_naive: the benchmark baseline (one thread per output, no tiling). Same shapes as matmul
// without transposed B or epilogue. Kernel: shaders/matmul_naive.wgsl.
import { compose } from '../wgsl/compose';
import { ceilDiv } from './grid';
import { matmul, matmulDims, matmulReference } from './matmul';
import type { OpDescriptor } from './types';

const WG = 16;

export const matmulNaive: OpDescriptor<Record<string, never>> = {
  name: 'matmul_naive',
  inputs: ['a', 'b'],
  shader: compose('matmul_naive'),
  infer: (inputs) => matmul.infer(inputs, {}),
  kernel(inputs) {
    const d = matmulDims('matmul_naive', inputs, {});
    return {
      entry: 'main',
      constants: { WG },
      uniforms: { M: d.M, N: d.N, K: d.K, batch_stride_a: d.strideA, batch_stride_b: d.strideB },
      grid: [ceilDiv(d.N, WG), ceilDiv(d.M, WG), d.batch],
    };
  },
  reference: (inputs, infos) => matmulReference(inputs, infos, {}),
  flops: (inputs, output) => matmul.flops!(inputs, output, {}),
  bytes: (inputs, output) => matmul.bytes!(inputs, output, {}),
};

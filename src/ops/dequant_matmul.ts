// dequant_matmul: x [..., K] · W → [..., N] with W packed (int8, 16-bit or llama.cpp blocks, see quantize.ts),
// dequantised in registers, plus the matmul epilogue (bias, GELU, residual) that the scheduler fuses
// the same way. Kernel: shaders/dequant_matmul.wgsl, matmul's cores with the scheme's weight-format
// library (matmul.ts WEIGHT_FORMATS).
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { withLanes } from './lanes';
import {
  EPILOGUE_INPUTS,
  checkDelta,
  epilogueConstants,
  gemmCall,
  gemvCall,
  geluReference,
  matmul,
  swigluReference,
  type MatmulAttrs,
} from './matmul';
import { f16ToF32 } from '../gpu/tensor';
import { checkPackedInputs, dequantize, quantLayout, type QuantScheme, type QuantizedData } from './quantize';
import { inputsByName, type OpDescriptor } from './types';

export interface DequantMatmulAttrs extends Omit<MatmulAttrs, 'transposeB'> {
  scheme: QuantScheme;
  K: number;
  N: number;
  /** The weights come with scales (int8 schemes; f16 has none): an input after the packed words. */
  scales?: boolean;
  /**
   * Quantize the activations too and use dot4I8Packed, where the adapter has the
   * packed_4x8_integer_dot_product language feature (q8_0, M == 1, K ≤ 4096; else the exact path).
   */
  dot4?: boolean;
}

/** Whether this call takes the dot4I8Packed path. */
export function usesDot4(a: DequantMatmulAttrs, M: number, packedDot4: boolean): boolean {
  return !!a.dot4 && packedDot4 && a.scheme === 'q8_0' && M === 1 && a.K <= 4096;
}

/**
 * Float64 reference of the dot4I8Packed path: activations quantized per 32 like the kernel does, the
 * q8_0 blocks' int8 and f16 scales read from their bytes.
 */
export function dot4Reference(x: Float64Array | Float32Array, q: QuantizedData, K: number, N: number): Float64Array {
  const out = new Float64Array(N);
  const xq = new Float64Array(K);
  const xsc: number[] = [];
  for (let b = 0; b * 32 < K; b++) {
    let amax = 0;
    for (let k = b * 32; k < Math.min(K, b * 32 + 32); k++) amax = Math.max(amax, Math.abs(x[k]));
    const s = Math.fround(amax / 127);
    xsc.push(s);
    for (let k = b * 32; k < Math.min(K, b * 32 + 32); k++) {
      const v = s > 0 ? Math.fround(x[k] / s) : 0;
      xq[k] = Math.max(-127, Math.min(127, Math.sign(v) * Math.floor(Math.abs(v) + 0.5)));
    }
  }
  const bytes = new Uint8Array(q.qweight.buffer, q.qweight.byteOffset, q.qweight.byteLength);
  const nb = q.rowBlocks;
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let k = 0; k < K; k++) {
      const at = (n * nb + Math.floor(k / 32)) * 34;
      const d = f16ToF32(bytes[at] | (bytes[at + 1] << 8));
      const wq = (bytes[at + 2 + (k % 32)] << 24) >> 24; // the stored int8
      acc += xq[k] * wq * xsc[Math.floor(k / 32)] * d;
    }
    out[n] = acc;
  }
  return out;
}

export const dequantMatmul: OpDescriptor<DequantMatmulAttrs> = {
  name: 'dequant_matmul',
  inputs: ['a', 'qw', 'scales?', ...EPILOGUE_INPUTS],
  // The GEMV's thread groups sum with subgroup shuffles or through workgroup memory (./lanes.ts).
  shader: withLanes('dequant_matmul'),
  infer(inputs, a) {
    const { a: x, qw, scales, bias, residual, delta } = inputsByName(dequantMatmul.inputs, a, inputs);
    if (!x || !qw) throw new ShapeError('dequant_matmul: needs x and packed weights');
    const l = quantLayout(a.scheme, a.K, a.N);
    if (x.dtype !== 'f32' || x.shape[x.shape.length - 1] !== a.K)
      throw new ShapeError(`dequant_matmul: x ${formatShape(x.shape)} must be f32 [..., ${a.K}]`);
    checkPackedInputs('dequant_matmul', qw, scales, l, `K ${a.K} N ${a.N}`);
    const glu = a.act === 'swiglu';
    if (glu && (a.N % 2 !== 0 || a.residual))
      throw new ShapeError(`dequant_matmul: SwiGLU pairs need an even N (got ${a.N}) and no residual`);
    const shape = [...x.shape.slice(0, -1), glu ? a.N / 2 : a.N];
    const expected = 2 + (a.scales ? 1 : 0) + (a.delta ? 1 : 0) + (a.bias ? 1 : 0) + (a.residual ? 1 : 0);
    if (inputs.length !== expected) throw new ShapeError(`dequant_matmul: expected ${expected} inputs, got ${inputs.length}`);
    if (a.delta) checkDelta('dequant_matmul', delta, numel(x.shape) / a.K, a.N);
    if (a.bias && bias?.shape.join() !== String(a.N)) throw new ShapeError(`dequant_matmul: bias must be [${a.N}]`);
    if (a.residual && numel(residual?.shape ?? []) !== numel(shape))
      throw new ShapeError(`dequant_matmul: residual must be ${formatShape(shape)}`);
    return { shape, dtype: 'f32' };
  },
  kernel(inputs, _o, a, ctx) {
    const M = numel(inputs[0].shape) / a.K;
    const epilogue = epilogueConstants(a);
    if (M === 1 && a.K % 4 === 0) {
      const format = usesDot4(a, M, ctx.features.packedDot4) ? 'q8_0_dp4a' : a.scheme;
      return gemvCall(format, a.K, a.N, epilogue, 'dequant_gemv', a.act === 'swiglu', ctx);
    }
    return gemmCall('gemm', a.scheme, { batch: 1, M, K: a.K, N: a.N, strideA: 0, strideB: 0 }, epilogue, ctx);
  },
  /** Float64 on the dequantised weights. */
  reference(inputs, _infos, a) {
    const { a: x, qw, scales, bias, residual, delta } = inputsByName(dequantMatmul.inputs, a, inputs) as Record<string, Float64Array>;
    const l = quantLayout(a.scheme, a.K, a.N);
    const M = x.length / a.K;
    const out = new Float64Array(M * a.N);
    const W = dequantize({ ...l, qweight: Uint32Array.from(qw), scales: Float32Array.from(scales ?? []) }); // [N, K]
    for (let n = 0; n < a.N; n++) {
      const w = W.subarray(n * a.K, (n + 1) * a.K);
      for (let m = 0; m < M; m++) {
        let s = 0;
        for (let k = 0; k < a.K; k++) s += x[m * a.K + k] * w[k];
        if (delta) s += delta[m * a.N + n];
        if (bias) s += bias[n];
        if (a.act === 'gelu') s = geluReference(s);
        if (residual) s += residual[m * a.N + n];
        out[m * a.N + n] = s;
      }
    }
    return a.act === 'swiglu' ? swigluReference(out) : out;
  },
  flops: (inputs, _o, a) => 2 * numel(inputs[0].shape) * a.N,
  bytes: (inputs, output, a) => {
    const l = quantLayout(a.scheme, a.K, a.N);
    return 4 * (numel(inputs[0].shape) + numel(output.shape) + l.words + l.N * l.blocks);
  },
};

dequantMatmul.fuseEpilogue = (attrs, output, consumer) => {
  const fused = matmul.fuseEpilogue!({ ...attrs, transposeB: false }, output, consumer);
  if (!fused) return null;
  const { transposeB: _, ...rest } = fused;
  return { ...attrs, ...rest } as DequantMatmulAttrs;
};

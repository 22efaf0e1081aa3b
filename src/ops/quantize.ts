// Packed weight formats and the quantizer (GPU or CPU, identical rules).
//   'q8_0':        int8, one scale per 32 weights along K per output channel (llama.cpp's Q8_0)
//   'per-channel': int8, one scale per output channel
//   'f16':         IEEE halves, two per u32 word, no scales: half the bytes of f32 on any adapter (the
//                  kernels unpack with unpack2x16float and accumulate in f32; shader-f16 not needed)
//   'bf16':        bfloat16, two per word, no scales: BF16 checkpoints kept exactly at half size (their
//                  range exceeds f16's, so converting them to f16 could overflow; unpacking is a shift)
// Packed row-major by output channel: qweight u32 [N, rowWords] (four int8 or two halves per word,
// little end first, zero padding past K) and scales f32 [N, blocks]. Kp is K rounded up to 32 (q8_0),
// 16 (per-channel) or 8 (f16: a vec4<u32> of eight halves).
// Kernel: shaders/quantize.wgsl.
import { compose } from '../wgsl/compose';
import type { GPUContext } from '../gpu/engine';
import { ShapeError, formatShape } from '../errors';
import { type Tensor, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, numel } from '../gpu/tensor';
import { grid1D } from './grid';
import type { OpDescriptor, TensorInfo } from './types';

export type QuantScheme = 'q8_0' | 'per-channel' | 'f16' | 'bf16';

const SCHEMES: readonly QuantScheme[] = ['q8_0', 'per-channel', 'f16', 'bf16'];

/** Two 16-bit weights per u32 word, no scales. */
export function isHalfScheme(s: QuantScheme): boolean {
  return s === 'f16' || s === 'bf16';
}

/** The scheme number the kernels' SCHEME override takes. */
export function schemeId(s: QuantScheme): number {
  return SCHEMES.indexOf(s);
}

export interface QuantLayout {
  scheme: QuantScheme;
  K: number;
  N: number;
  /** u32 words per output row. */
  rowWords: number;
  /** Scales per output row. */
  blocks: number;
}

export function quantLayout(scheme: QuantScheme, K: number, N: number): QuantLayout {
  if (!SCHEMES.includes(scheme)) throw new ShapeError(`quantize: unknown scheme '${String(scheme)}' (${SCHEMES.join(', ')})`);
  if (!(Number.isInteger(K) && Number.isInteger(N) && K > 0 && N > 0))
    throw new ShapeError(`quantize: K = ${K} and N = ${N} must be positive integers`);
  if (isHalfScheme(scheme)) return { scheme, K, N, rowWords: Math.ceil(K / 8) * 4, blocks: 0 };
  const Kp = scheme === 'q8_0' ? Math.ceil(K / 32) * 32 : Math.ceil(K / 16) * 16;
  return { scheme, K, N, rowWords: Kp / 4, blocks: scheme === 'q8_0' ? Kp / 32 : 1 };
}

/**
 * Throws ShapeError unless graph inputs `qw` and `scales` hold layout `l` (u32 words, f32 scales), for
 * the ops that read packed weights; `dims` names the sizes in the message (e.g. "K 768 N 3072").
 */
export function checkPackedInputs(op: string, qw: TensorInfo, scales: TensorInfo | undefined, l: QuantLayout, dims: string): void {
  if (qw.dtype !== 'u32' || numel(qw.shape) !== l.N * l.rowWords) {
    throw new ShapeError(
      `${op}: packed weights ${qw.dtype} ${formatShape(qw.shape)} must be u32 [${l.N}, ${l.rowWords}] for ${l.scheme} ${dims}`,
    );
  }
  const given = scales ? numel(scales.shape) : 0;
  if ((scales && scales.dtype !== 'f32') || given !== l.N * l.blocks) {
    throw new ShapeError(`${op}: ${given} scales given, ${l.scheme} ${dims} needs ${l.N * l.blocks}`);
  }
}

/** Packed int8 weights on the CPU. */
export interface QuantizedData extends QuantLayout {
  qweight: Uint32Array;
  scales: Float32Array;
}

/** Checks that packed data matches its layout; throws naming the sizes. */
export function checkQuantized(q: QuantizedData): void {
  const l = quantLayout(q.scheme, q.K, q.N);
  if (!(q.qweight instanceof Uint32Array) || q.qweight.length !== l.N * l.rowWords) {
    throw new ShapeError(
      `quantized weights (${q.scheme}, K ${q.K}, N ${q.N}): packed data has ${q.qweight?.length} words, the layout needs ${l.N * l.rowWords}`,
    );
  }
  if (!(q.scales instanceof Float32Array) || q.scales.length !== l.N * l.blocks) {
    throw new ShapeError(
      `quantized weights (${q.scheme}, K ${q.K}, N ${q.N}): ${q.scales?.length} scales given, the layout needs ${l.N * l.blocks}`,
    );
  }
  for (let i = 0; i < q.scales.length; i++) {
    if (!(q.scales[i] >= 0) || !Number.isFinite(q.scales[i]))
      throw new ShapeError(`quantized weights: scale ${i} is ${q.scales[i]}; scales must be finite and ≥ 0`);
  }
}

/** Quantizes on the CPU. `w` is [K, N] (layout 'KN', as Conv1D) or [N, K] ('NK', as nn.Linear). */
export function quantizeCPU(w: Float32Array, K: number, N: number, scheme: QuantScheme, layout: 'KN' | 'NK' = 'KN'): QuantizedData {
  const l = quantLayout(scheme, K, N);
  if (w.length !== K * N)
    throw new ShapeError(`quantize: ${w.length} weights do not fill [${layout === 'KN' ? `${K}, ${N}` : `${N}, ${K}`}]`);
  const at = (n: number, k: number) => (k >= K ? 0 : layout === 'KN' ? w[k * N + n] : w[n * K + k]);
  const scales = new Float32Array(N * l.blocks);
  const qweight = new Uint32Array(N * l.rowWords);
  if (isHalfScheme(scheme)) {
    const half = scheme === 'f16' ? f32ToF16 : f32ToBf16;
    for (let n = 0; n < N; n++) {
      for (let word = 0; word < l.rowWords; word++) {
        qweight[n * l.rowWords + word] = (half(at(n, 2 * word)) | (half(at(n, 2 * word + 1)) << 16)) >>> 0;
      }
    }
    return { ...l, qweight, scales };
  }
  const span = scheme === 'q8_0' ? 32 : K;
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < l.blocks; b++) {
      let amax = 0;
      for (let k = b * span; k < Math.min(K, (b + 1) * span); k++) amax = Math.max(amax, Math.abs(at(n, k)));
      scales[n * l.blocks + b] = Math.fround(amax / 127);
    }
    for (let word = 0; word < l.rowWords; word++) {
      let packed = 0;
      for (let j = 0; j < 4; j++) {
        const k = word * 4 + j;
        const s = scales[n * l.blocks + (scheme === 'q8_0' ? Math.floor(k / 32) : 0)];
        const v = s > 0 ? Math.fround(at(n, k) / s) : 0;
        const q = Math.max(-127, Math.min(127, Math.sign(v) * Math.floor(Math.abs(v) + 0.5)));
        packed |= (q & 0xff) << (8 * j);
      }
      qweight[n * l.rowWords + word] = packed >>> 0;
    }
  }
  return { ...l, qweight, scales };
}

/** The weights the int8 data stands for, as [N, K] float64 (the reference kernels compare against). */
export function dequantize(q: QuantizedData): Float64Array {
  const out = new Float64Array(q.N * q.K);
  if (isHalfScheme(q.scheme)) {
    const widen = q.scheme === 'f16' ? f16ToF32 : bf16ToF32;
    for (let n = 0; n < q.N; n++) {
      for (let k = 0; k < q.K; k++) out[n * q.K + k] = widen((q.qweight[n * q.rowWords + (k >> 1)] >>> (16 * (k & 1))) & 0xffff);
    }
    return out;
  }
  for (let n = 0; n < q.N; n++) {
    for (let k = 0; k < q.K; k++) {
      const word = q.qweight[n * q.rowWords + (k >> 2)];
      const byte = ((word >>> (8 * (k & 3))) << 24) >> 24;
      out[n * q.K + k] = byte * q.scales[n * q.blocks + (q.scheme === 'q8_0' ? Math.floor(k / 32) : 0)];
    }
  }
  return out;
}

/** Packed weights on the GPU: the words and (int8 schemes) the scales, for g.dequantMatmul(). */
export class QuantizedTensor {
  constructor(
    readonly layout: QuantLayout,
    readonly qweight: Tensor,
    /** Null for schemes without scales (f16). */
    readonly scales: Tensor | null,
  ) {}

  /** Uploads packed data after checking it against its layout. */
  static upload(engine: GPUContext, q: QuantizedData, label = 'int8 weights'): QuantizedTensor {
    checkQuantized(q);
    const l = quantLayout(q.scheme, q.K, q.N);
    return new QuantizedTensor(
      l,
      engine.tensor(q.qweight, [l.N, l.rowWords], `${label}.q`),
      l.blocks ? engine.tensor(q.scales, [l.N, l.blocks], `${label}.scales`) : null,
    );
  }

  /** GPU bytes: packed weights plus scales. */
  get byteLength(): number {
    return this.qweight.byteLength + (this.scales?.byteLength ?? 0);
  }

  /** Reads the packed data back (for tests and export). */
  async read(): Promise<QuantizedData> {
    const scales = this.scales ? ((await this.scales.read()) as Float32Array) : new Float32Array(0);
    return { ...this.layout, qweight: (await this.qweight.read()) as Uint32Array, scales };
  }

  dispose(): void {
    this.qweight.dispose();
    this.scales?.dispose();
  }
}

export interface QuantAttrs {
  scheme: QuantScheme;
  K: number;
  N: number;
  kn: boolean;
}

const shader = compose('quantize');

function uniforms(a: QuantAttrs) {
  const l = quantLayout(a.scheme, a.K, a.N);
  return { l, u: { K: a.K, N: a.N, row_words: l.rowWords, n_blocks: l.blocks, kn: a.kn ? 1 : 0 } };
}

export const quantizeScales: OpDescriptor<QuantAttrs> = {
  name: 'quantize_scales',
  inputs: ['w'],
  shader,
  infer([w], a) {
    if (w?.dtype !== 'f32' || w.shape.reduce((x, y) => x * y, 1) !== a.K * a.N)
      throw new ShapeError(`quantize: weights ${w ? formatShape(w.shape) : 'nothing'} are not K ${a.K} × N ${a.N} f32`);
    return { shape: [a.N, quantLayout(a.scheme, a.K, a.N).blocks], dtype: 'f32' };
  },
  kernel(_i, _o, a, ctx) {
    const { l, u } = uniforms(a);
    return {
      entry: 'scales_main',
      constants: { WG: 64, SCHEME: a.scheme === 'q8_0' ? 0 : 1 },
      uniforms: u,
      grid: grid1D(l.N * l.blocks, 64, ctx.limits),
    };
  },
  reference([w], _infos, a) {
    return Float64Array.from(quantizeCPU(Float32Array.from(w), a.K, a.N, a.scheme, a.kn ? 'KN' : 'NK').scales);
  },
};

export const quantizePack: OpDescriptor<QuantAttrs> = {
  name: 'quantize_pack',
  inputs: ['w', 'scales'],
  shader,
  infer(_inputs, a) {
    const l = quantLayout(a.scheme, a.K, a.N);
    return { shape: [l.N, l.rowWords], dtype: 'u32' };
  },
  kernel(_i, _o, a, ctx) {
    const { l, u } = uniforms(a);
    return {
      entry: 'pack',
      constants: { WG: 64, SCHEME: a.scheme === 'q8_0' ? 0 : 1 },
      uniforms: u,
      grid: grid1D(l.N * l.rowWords, 64, ctx.limits),
    };
  },
  reference([w], _infos, a) {
    return Float64Array.from(quantizeCPU(Float32Array.from(w), a.K, a.N, a.scheme, a.kn ? 'KN' : 'NK').qweight);
  },
};

// Packed weight formats and the quantizer (GPU or CPU, identical rules).
//   'per-channel': int8, one f32 scale per output channel
//   'f16':         IEEE halves, two per u32 word, no scales: half the bytes of f32 on any adapter (the
//                  kernels unpack with unpack2x16float and accumulate in f32; shader-f16 not needed)
//   'bf16':        bfloat16, two per word, no scales: BF16 checkpoints kept exactly at half size (their
//                  range exceeds f16's, so converting them to f16 could overflow; unpacking is a shift)
//   'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k', 'iq4_nl', 'iq4_xs':
//                  llama.cpp's blocks (int8 and f16 scale per 32 for q8_0), the bytes of a GGUF tensor
//                  as they are (./ggml-blocks.ts)
// Packed row-major by output channel: qweight u32 [N, rowWords] (four int8 or two halves per word,
// little end first, zero padding past K) and scales f32 [N, blocks]. Kp is K rounded up to 16
// (per-channel) or 8 (f16: a vec4<u32> of eight halves). The block schemes keep their scales inside
// the blocks: qweight is the N · K / QK blocks end to end (rows padded with zero weights to a whole
// block), as u32 words [words] with the last word zero-padded, and there is no scales tensor.
// Kernel: shaders/quantize.wgsl.
import { compose } from '../wgsl/compose';
import type { GPUContext } from '../gpu/engine';
import { ArgumentError, ShapeError, formatShape } from '../errors';
import { type Tensor, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, numel } from '../gpu/tensor';
import { BLOCK, type BlockScheme, blockHalves, decodeBlock, encodeBlock } from './ggml-blocks';
import { grid1D } from './grid';
import type { OpDescriptor, TensorInfo } from './types';

export type QuantScheme = 'per-channel' | 'f16' | 'bf16' | BlockScheme;

export const SCHEMES: readonly QuantScheme[] = [
  'q8_0',
  'per-channel',
  'f16',
  'bf16',
  'q4_0',
  'q4_k',
  'q6_k',
  'q5_0',
  'q4_1',
  'q5_1',
  'q2_k',
  'q3_k',
  'q5_k',
  'iq4_nl',
  'iq4_xs',
];

/** The packed embedding's SCHEME numbers (shaders/dequant_embedding.wgsl): the block schemes are 4 and up. The matmul
 * cores take a weight-format library instead (matmul.ts WEIGHT_FORMATS). */
const SCHEME_IDS: Record<QuantScheme, number> = {
  'per-channel': 1,
  f16: 2,
  bf16: 3,
  q4_0: 4,
  q4_k: 5,
  q6_k: 6,
  q8_0: 7,
  q5_0: 8,
  q4_1: 9,
  q5_1: 10,
  q2_k: 11,
  q3_k: 12,
  q5_k: 13,
  iq4_nl: 14,
  iq4_xs: 15,
};

/** llama.cpp's self-contained blocks (scales inside), uploaded as the bytes they are. */
export function isBlockScheme(s: QuantScheme): s is BlockScheme {
  return s in BLOCK;
}

/** Two 16-bit weights per u32 word, no scales. */
export function isHalfScheme(s: QuantScheme): boolean {
  return s === 'f16' || s === 'bf16';
}

/** The scheme number the kernels' SCHEME override takes. */
export function schemeId(s: QuantScheme): number {
  return SCHEME_IDS[s];
}

export interface QuantLayout {
  scheme: QuantScheme;
  K: number;
  N: number;
  /** u32 words per output row (int8 and 16-bit schemes; 0 for the block schemes, whose rows need not end on a word). */
  rowWords: number;
  /** Scales per output row (0 where there is no scales tensor). */
  blocks: number;
  /** Bytes per output row as packed. */
  rowBytes: number;
  /** Blocks per output row (block schemes; 0 otherwise). */
  rowBlocks: number;
  /** u32 words of qweight in all. */
  words: number;
}

export function quantLayout(scheme: QuantScheme, K: number, N: number): QuantLayout {
  if (!SCHEMES.includes(scheme)) throw new ShapeError(`quantize: unknown scheme '${String(scheme)}' (${SCHEMES.join(', ')})`);
  if (!(Number.isInteger(K) && Number.isInteger(N) && K > 0 && N > 0))
    throw new ShapeError(`quantize: K = ${K} and N = ${N} must be positive integers`);
  if (isBlockScheme(scheme)) {
    const { qk, bytes } = BLOCK[scheme];
    const rowBlocks = Math.ceil(K / qk);
    return { scheme, K, N, rowWords: 0, blocks: 0, rowBytes: rowBlocks * bytes, rowBlocks, words: Math.ceil((N * rowBlocks * bytes) / 4) };
  }
  const rowWords = isHalfScheme(scheme) ? Math.ceil(K / 8) * 4 : Math.ceil(K / 16) * 4;
  const blocks = isHalfScheme(scheme) ? 0 : 1;
  return { scheme, K, N, rowWords, blocks, rowBytes: 4 * rowWords, rowBlocks: 0, words: N * rowWords };
}

/** The shape qweight has on the GPU: [N, rowWords], or [words] for the block schemes. */
export function packedShape(l: QuantLayout): number[] {
  return isBlockScheme(l.scheme) ? [l.words] : [l.N, l.rowWords];
}

/**
 * Throws ShapeError unless graph inputs `qw` and `scales` hold layout `l` (u32 words, f32 scales), for
 * the ops that read packed weights; `dims` names the sizes in the message (e.g. "K 768 N 3072").
 */
export function checkPackedInputs(op: string, qw: TensorInfo, scales: TensorInfo | undefined, l: QuantLayout, dims: string): void {
  if (qw.dtype !== 'u32' || numel(qw.shape) !== l.words) {
    throw new ShapeError(
      `${op}: packed weights ${qw.dtype} ${formatShape(qw.shape)} must be u32 ${formatShape(packedShape(l))} for ${l.scheme} ${dims}`,
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
  if (!(q.qweight instanceof Uint32Array) || q.qweight.length !== l.words) {
    throw new ShapeError(
      `quantized weights (${q.scheme}, K ${q.K}, N ${q.N}): packed data has ${q.qweight?.length} words, the layout needs ${l.words}`,
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
  if (isBlockScheme(q.scheme)) {
    const at = nonFiniteBlockScale(
      q.scheme,
      new Uint8Array(q.qweight.buffer, q.qweight.byteOffset, q.qweight.byteLength),
      l.N * l.rowBlocks,
    );
    if (at >= 0) throw new ShapeError(`quantized weights (${q.scheme}): block ${at} has a non-finite f16 scale`);
  }
}

/** The first of `count` blocks whose f16 scales are ±∞ or NaN, or −1. */
export function nonFiniteBlockScale(scheme: BlockScheme, bytes: Uint8Array, count: number): number {
  const size = BLOCK[scheme].bytes;
  for (let b = 0; b < count; b++) {
    for (const o of blockHalves(scheme)) if ((bytes[b * size + o + 1] & 0x7c) === 0x7c) return b;
  }
  return -1;
}

/** Quantizes on the CPU. `w` is [K, N] (layout 'KN', as Conv1D) or [N, K] ('NK', as nn.Linear). */
export function quantizeCPU(w: Float32Array, K: number, N: number, scheme: QuantScheme, layout: 'KN' | 'NK' = 'KN'): QuantizedData {
  const l = quantLayout(scheme, K, N);
  if (w.length !== K * N)
    throw new ShapeError(`quantize: ${w.length} weights do not fill [${layout === 'KN' ? `${K}, ${N}` : `${N}, ${K}`}]`);
  const at = (n: number, k: number) => (k >= K ? 0 : layout === 'KN' ? w[k * N + n] : w[n * K + k]);
  const scales = new Float32Array(N * l.blocks);
  const qweight = new Uint32Array(l.words);
  if (isBlockScheme(scheme)) {
    const { qk, bytes } = BLOCK[scheme];
    const out = new Uint8Array(qweight.buffer);
    const x = new Float64Array(qk);
    for (let n = 0; n < N; n++) {
      for (let b = 0; b < l.rowBlocks; b++) {
        for (let i = 0; i < qk; i++) x[i] = at(n, b * qk + i);
        encodeBlock(scheme, x, out, (n * l.rowBlocks + b) * bytes);
      }
    }
    return { ...l, qweight, scales };
  }
  if (isHalfScheme(scheme)) {
    const half = scheme === 'f16' ? f32ToF16 : f32ToBf16;
    for (let n = 0; n < N; n++) {
      for (let word = 0; word < l.rowWords; word++) {
        qweight[n * l.rowWords + word] = (half(at(n, 2 * word)) | (half(at(n, 2 * word + 1)) << 16)) >>> 0;
      }
    }
    return { ...l, qweight, scales };
  }
  // per-channel int8: one absmax scale per output row.
  for (let n = 0; n < N; n++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(at(n, k)));
    scales[n] = Math.fround(amax / 127);
    for (let word = 0; word < l.rowWords; word++) {
      let packed = 0;
      for (let j = 0; j < 4; j++) {
        const k = word * 4 + j;
        const s = scales[n];
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
  if (isBlockScheme(q.scheme)) {
    const { qk, bytes } = BLOCK[q.scheme];
    const l = quantLayout(q.scheme, q.K, q.N);
    const src = new Uint8Array(q.qweight.buffer, q.qweight.byteOffset, q.qweight.byteLength);
    const row = new Float64Array(l.rowBlocks * qk);
    for (let n = 0; n < q.N; n++) {
      for (let b = 0; b < l.rowBlocks; b++) decodeBlock(q.scheme, src, (n * l.rowBlocks + b) * bytes, row, b * qk);
      out.set(row.subarray(0, q.K), n * q.K);
    }
    return out;
  }
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
      out[n * q.K + k] = byte * q.scales[n];
    }
  }
  return out;
}

/** Packed weights on the GPU: the words and (int8 schemes) the scales, for g.dequantMatmul(). */
export class QuantizedTensor {
  constructor(
    readonly layout: QuantLayout,
    readonly qweight: Tensor,
    /** Null for schemes without a scales tensor (f16, bf16, the block schemes). */
    readonly scales: Tensor | null,
  ) {}

  /** Uploads packed data after checking it against its layout. */
  static upload(engine: GPUContext, q: QuantizedData, label = 'int8 weights'): QuantizedTensor {
    checkQuantized(q);
    const l = quantLayout(q.scheme, q.K, q.N);
    return new QuantizedTensor(
      l,
      engine.tensor(q.qweight, packedShape(l), `${label}.q`),
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

/** quantize_scales and quantize_pack write per-channel int8 (a scale per output row); the other schemes are
 * packed by quantize_blocks, their scales (if any) inside the blocks. */
function checkPerChannel(op: string, a: QuantAttrs): void {
  if (a.scheme !== 'per-channel')
    throw new ArgumentError(
      `${op}: scheme '${a.scheme}' (K ${a.K}, N ${a.N}) is not per-channel int8; quantize_blocks packs ${GPU_BLOCK_SCHEMES.join(', ')}, with any scales inside the blocks`,
    );
}

function uniforms(a: QuantAttrs) {
  const l = quantLayout(a.scheme, a.K, a.N);
  return { l, u: { K: a.K, N: a.N, row_words: l.rowWords, n_blocks: l.blocks, kn: a.kn ? 1 : 0 } };
}

export const quantizeScales: OpDescriptor<QuantAttrs> = {
  name: 'quantize_scales',
  inputs: ['w'],
  shader,
  infer([w], a) {
    checkPerChannel('quantize_scales', a);
    if (w?.dtype !== 'f32' || w.shape.reduce((x, y) => x * y, 1) !== a.K * a.N)
      throw new ShapeError(`quantize: weights ${w ? formatShape(w.shape) : 'nothing'} are not K ${a.K} × N ${a.N} f32`);
    return { shape: [a.N, quantLayout(a.scheme, a.K, a.N).blocks], dtype: 'f32' };
  },
  kernel(_i, _o, a, ctx) {
    const { l, u } = uniforms(a);
    return {
      entry: 'scales_main',
      constants: { WG: 64 },
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
    checkPerChannel('quantize_pack', a);
    const l = quantLayout(a.scheme, a.K, a.N);
    return { shape: [l.N, l.rowWords], dtype: 'u32' };
  },
  kernel(_i, _o, a, ctx) {
    const { l, u } = uniforms(a);
    return {
      entry: 'pack',
      constants: { WG: 64 },
      uniforms: u,
      grid: grid1D(l.N * l.rowWords, 64, ctx.limits),
    };
  },
  reference([w], _infos, a) {
    return Float64Array.from(quantizeCPU(Float32Array.from(w), a.K, a.N, a.scheme, a.kn ? 'KN' : 'NK').qweight);
  },
};

/** Schemes the GPU packs with quantize_blocks: 16-bit halves, q8_0, q4_0, q5_0 and q4_k (the other blocks are CPU only). */
export const GPU_BLOCK_SCHEMES: readonly QuantScheme[] = ['f16', 'bf16', 'q8_0', 'q4_0', 'q5_0', 'q4_k'];

const blocksShader = compose('quantize_blocks');

/** f32 weights → packed words of a 16-bit or block scheme (shaders/quantize_blocks.wgsl), the CPU's rules. */
export const quantizeBlocks: OpDescriptor<QuantAttrs> = {
  name: 'quantize_blocks',
  inputs: ['w'],
  shader: blocksShader,
  infer([w], a) {
    if (!GPU_BLOCK_SCHEMES.includes(a.scheme)) throw new ShapeError(`quantize_blocks: scheme ${a.scheme} is packed on the CPU`);
    if (w?.dtype !== 'f32' || numel(w.shape) !== a.K * a.N)
      throw new ShapeError(`quantize: weights ${w ? formatShape(w.shape) : 'nothing'} are not K ${a.K} × N ${a.N} f32`);
    const l = quantLayout(a.scheme, a.K, a.N);
    return { shape: packedShape(l), dtype: 'u32' };
  },
  kernel(_i, _o, a, ctx) {
    const l = quantLayout(a.scheme, a.K, a.N);
    // q8_0, q4_0 and q5_0 blocks (34, 18 and 22 bytes) go two to a thread so that no word is shared.
    const paired = a.scheme === 'q4_0' || a.scheme === 'q5_0' || a.scheme === 'q8_0';
    const count = isHalfScheme(a.scheme) ? l.words : paired ? Math.ceil((l.N * l.rowBlocks) / 2) : l.N * l.rowBlocks;
    return {
      entry: isHalfScheme(a.scheme) ? 'pack_half' : paired ? 'pack_pair' : 'pack_q4_k',
      constants: { WG: 64, SCHEME: schemeId(a.scheme) },
      uniforms: { K: a.K, N: a.N, row_words: l.rowWords, row_blocks: l.rowBlocks, kn: a.kn ? 1 : 0, count },
      grid: grid1D(count, 64, ctx.limits),
    };
  },
  reference([w], _infos, a) {
    return Float64Array.from(quantizeCPU(Float32Array.from(w), a.K, a.N, a.scheme, a.kn ? 'KN' : 'NK').qweight);
  },
};

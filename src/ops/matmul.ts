// matmul: [..., M, K] × [K, N] (weights shared across leading dims) or [..., M, K] × [..., K, N]
// (batched), with B optionally stored transposed ([N, K]) and a fused epilogue: bias [N], GELU,
// residual (shape of the output). Kernel: shaders/matmul.wgsl, whose two cores (lib/tile's GEMM,
// lib/gemv's GEMV) read the weights through a weight-format library: WEIGHT_FORMATS below, shared
// with dequant_matmul (the packed formats).
import { ShapeError, LimitError, formatShape } from '../errors';
import type { EngineFeatures } from '../gpu/engine';
import { numel } from '../gpu/tensor';
import { grid1D, tileGrid, tuned } from './grid';
import { gemvConfig, withLanes } from './lanes';
import type { QuantScheme } from './quantize';
import { inputsByName, type KernelCall, type KernelContext, type OpDescriptor, type ShaderVariant, type TensorInfo } from './types';

export interface MatmulAttrs {
  /** B is stored [N, K] (as nn.Linear weights) instead of [K, N]. */
  transposeB?: boolean;
  /** Inputs include a bias [N] after B. */
  bias?: boolean;
  /**
   * Inputs include, right after B, a delta of the un-activated output's shape [..., M, N] added to the
   * product before the bias and activation (a LoRA adapter's low-rank update x·Aᵀ·Bᵀ·scale).
   */
  delta?: boolean;
  /** Activation applied after the bias. */
  /**
   * 'swiglu': the weights' output rows interleave gate and up (see swigluRows); the output is
   * silu(gate) · up, N / 2 wide. Needs an even N and no residual.
   */
  act?: 'none' | 'gelu' | 'swiglu';
  /** Inputs end with a residual of the output's shape, added last. */
  residual?: boolean;
}

export interface MatmulDims {
  batch: number;
  M: number;
  K: number;
  N: number;
  strideA: number;
  strideB: number;
}

function describe(inputs: readonly TensorInfo[]): string {
  return inputs.map((t) => formatShape(t.shape)).join(' × ');
}

export function matmulDims(op: string, inputs: readonly TensorInfo[], attrs: MatmulAttrs): MatmulDims {
  const [a, b] = inputs;
  if (!a || !b) throw new ShapeError(`${op}: needs two inputs`);
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new ShapeError(`${op}: inputs must have rank ≥ 2, got ${describe(inputs)}`);
  }
  const M = a.shape[a.shape.length - 2];
  const K = a.shape[a.shape.length - 1];
  const [Kb, N] = attrs.transposeB
    ? [b.shape[b.shape.length - 1], b.shape[b.shape.length - 2]]
    : [b.shape[b.shape.length - 2], b.shape[b.shape.length - 1]];
  if (K !== Kb) {
    const bDesc = attrs.transposeB ? 'B^T (B stored [N, K])' : 'B';
    throw new ShapeError(
      `${op}: inner dimensions differ: A ${formatShape(a.shape)} has K = ${K}, ${bDesc} ${formatShape(b.shape)} has K = ${Kb}`,
    );
  }
  const lead = a.shape.slice(0, -2);
  if (b.shape.length === 2) {
    // Weights shared by every leading index: fold the leading dims into M.
    return { batch: 1, M: M * numel(lead), K, N, strideA: 0, strideB: 0 };
  }
  const leadB = b.shape.slice(0, -2);
  if (leadB.length !== lead.length || leadB.some((d, i) => d !== lead[i])) {
    throw new ShapeError(`${op}: batch dimensions differ: ${describe(inputs)}`);
  }
  return { batch: numel(lead), M, K, N, strideA: M * K, strideB: K * N };
}

/**
 * The matmul family's optional epilogue operands, after its two matrix inputs. A delta is given when
 * the op is built, bias and residual may be folded in later: fusion appends inputs, so delta comes first.
 */
export const EPILOGUE_INPUTS = ['delta?', 'bias?', 'residual?'] as const;

/** Throws unless a delta input is [..., N] with the elements of the un-activated output (M·N per batch). */
export function checkDelta(name: string, delta: TensorInfo | undefined, rows: number, N: number): void {
  if (delta?.dtype !== 'f32' || numel(delta.shape) !== rows * N || delta.shape[delta.shape.length - 1] !== N) {
    throw new ShapeError(
      `${name}: delta must be f32 [${rows}, ${N}] (the output before any activation), got ${delta ? `${delta.dtype} ${formatShape(delta.shape)}` : 'nothing'}`,
    );
  }
}

function inferMatmul(name: string) {
  return (inputs: readonly TensorInfo[], attrs: MatmulAttrs): TensorInfo => {
    for (const t of inputs) {
      if (t.dtype !== 'f32') throw new ShapeError(`${name}: inputs must be f32, got ${t.dtype} ${formatShape(t.shape)}`);
    }
    const d = matmulDims(name, inputs, attrs);
    const a = inputs[0];
    const glu = attrs.act === 'swiglu';
    if (glu && (d.N % 2 !== 0 || attrs.residual)) throw new ShapeError(`${name}: SwiGLU pairs need an even N (got ${d.N}) and no residual`);
    const shape = [...a.shape.slice(0, -1), glu ? d.N / 2 : d.N];
    const expected = 2 + (attrs.delta ? 1 : 0) + (attrs.bias ? 1 : 0) + (attrs.residual ? 1 : 0);
    if (inputs.length !== expected) throw new ShapeError(`${name}: expected ${expected} inputs, got ${inputs.length}`);
    const { bias, residual: r, delta } = inputsByName(EPILOGUE_INPUTS, attrs, inputs.slice(2));
    if (attrs.delta) checkDelta(name, delta, d.batch * d.M, d.N);
    if (attrs.bias && (bias?.shape.length !== 1 || bias.shape[0] !== d.N)) {
      throw new ShapeError(`${name}: bias must be [${d.N}], got ${bias ? formatShape(bias.shape) : 'nothing'}`);
    }
    if (attrs.residual && (!r || numel(r.shape) !== numel(shape) || r.shape[r.shape.length - 1] !== d.N)) {
      throw new ShapeError(`${name}: residual must be ${formatShape(shape)}, got ${r ? formatShape(r.shape) : 'nothing'}`);
    }
    return { shape, dtype: 'f32' };
  };
}

/** Shape classes the tuner keys on: decode (M ≤ 4), narrow (M ≤ 32) and wide. */
export function matmulShapeClass(M: number): 'gemv' | 'narrow' | 'wide' {
  return M <= 4 ? 'gemv' : M <= 32 ? 'narrow' : 'wide';
}

/**
 * How a matmul's weights are stored: f32 [K, N] ('f32'; 'f32_n1' for its GEMV where N % 4 != 0) or
 * [N, K] ('f32_nk'), or a packed scheme of ops/quantize.ts; 'q8_0_dp4a' is q8_0 with activations
 * quantized for dot4I8Packed.
 */
export type WeightFormat = 'f32' | 'f32_n1' | 'f32_nk' | QuantScheme | 'q8_0_dp4a';

/**
 * The libraries that serve the matmul cores' imports for each weight format (shaders/lib/weights*.wgsl
 * and the block types they import). A new format is a library and a line here.
 */
export const WEIGHT_FORMATS: Record<WeightFormat, Record<string, string>> = {
  f32: {},
  f32_n1: { 'lib/columns4': 'lib/columns1' },
  f32_nk: { 'lib/weights': 'lib/weights_f32_nk' },
  'per-channel': { 'lib/weights': 'lib/weights_int8' },
  f16: { 'lib/weights': 'lib/weights_half' },
  bf16: { 'lib/weights': 'lib/weights_half', 'lib/f16': 'lib/bf16' },
  q8_0: { 'lib/weights': 'lib/weights_blocks' },
  q4_0: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q4_0' },
  q5_0: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q5_0' },
  q4_k: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q4_k' },
  q6_k: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q6_k' },
  q4_1: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q4_1' },
  q5_1: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q5_1' },
  q2_k: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q2_k' },
  q3_k: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q3_k' },
  q5_k: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/q5_k' },
  iq4_nl: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/iq4_nl' },
  iq4_xs: { 'lib/weights': 'lib/weights_blocks', 'lib/q8_0': 'lib/iq4_xs' },
  q8_0_dp4a: { 'lib/weights': 'lib/weights_blocks', 'lib/blocks_gemv': 'lib/blocks_gemv_dp4a', 'lib/unpack': 'lib/unpack_builtin' },
};

/** The shader variant of a weight format (none for f32 [K, N], the files' own imports). */
export function weightVariant(format: WeightFormat): ShaderVariant | undefined {
  return format === 'f32' ? undefined : { aliases: WEIGHT_FORMATS[format], suffix: `+${format}` };
}

/**
 * The decode GEMV (M == 1, one batch) of the matmul family: `key` is its tuning key, `pairs` the
 * SwiGLU epilogue. A group of TPR threads computes NR outputs; with f32 [K, N] weights they are one
 * vec4 of columns (NR 4), read as a vec4 where N % 4 == 0, as scalars otherwise ('f32_n1').
 */
export function gemvCall(
  format: WeightFormat,
  K: number,
  N: number,
  constants: Record<string, number>,
  key: string,
  pairs: boolean,
  ctx: KernelContext,
): KernelCall {
  const t = gemvConfig(ctx, key, K, N, pairs);
  const NR = format === 'f32' ? 4 : t.NR;
  return {
    entry: 'gemv',
    variant: weightVariant(format === 'f32' && N % 4 !== 0 ? 'f32_n1' : format),
    constants: { ...constants, TPR: t.TPR, NR },
    uniforms: { M: 1, N, K },
    grid: grid1D(N, (256 / t.TPR) * NR, ctx.limits),
  };
}

/** The tiled GEMM of the matmul family at entry `entry`, its tiles tuned for M's shape class. */
export function gemmCall(
  entry: string,
  format: WeightFormat,
  d: MatmulDims,
  constants: Record<string, number>,
  ctx: KernelContext,
): KernelCall {
  const tiles = matmulTiles(d.M, ctx);
  return {
    entry,
    variant: weightVariant(format),
    constants: { ...tiles, ...constants },
    uniforms: { M: d.M, N: d.N, K: d.K, batch_stride_a: d.strideA, batch_stride_b: d.strideB },
    grid: tileGrid(d.M, d.N, d.batch, tiles),
  };
}

const DEFAULT_TILES: Record<string, Record<string, number>> = {
  gemv: { WG_X: 64, WG_Y: 1, TILE_K: 16 },
  narrow: { WG_X: 32, WG_Y: 4, TILE_K: 16 },
  wide: { WG_X: 16, WG_Y: 16, TILE_K: 16 },
};

/** Workgroup storage the tiled kernels need: an A and a B tile of TILE_K × 4·WG rows of f32. */
export function matmulTileBytes(t: Record<string, number>): number {
  return t.TILE_K * 4 * (t.WG_X + t.WG_Y) * 4;
}

/** Whether a tile configuration fits the device's workgroup size and storage. */
export function matmulTilesFit(t: Record<string, number>, limits: GPUSupportedLimits): boolean {
  return t.WG_X * t.WG_Y <= limits.maxComputeInvocationsPerWorkgroup && matmulTileBytes(t) <= limits.maxComputeWorkgroupStorageSize;
}

/**
 * The tile configurations the autotuner times for the tiled GEMM (bench/autotune.ts): every one of
 * these sizes that fits the device (`quick`: fewer).
 */
export function matmulCandidates(limits: GPUSupportedLimits, quick: boolean): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  for (const WG_X of quick ? [8, 16] : [8, 16, 32])
    for (const WG_Y of quick ? [4, 16] : [4, 8, 16])
      for (const TILE_K of quick ? [16] : [8, 16, 32]) if (matmulTilesFit({ WG_X, WG_Y, TILE_K }, limits)) out.push({ WG_X, WG_Y, TILE_K });
  return out;
}

/**
 * The thread groups the autotuner times for the GEMVs (keys 'gemv' and 'dequant_gemv'): TPR threads
 * per dot product × NR outputs per group. With subgroup shuffles gemvConfig clamps TPR to the
 * smallest subgroup, so larger values would repeat one.
 */
export function gemvCandidates(features: EngineFeatures, quick: boolean): Record<string, number>[] {
  const cap = features.subgroups && features.subgroupMinSize ? features.subgroupMinSize : 32;
  const out: Record<string, number>[] = [];
  for (const TPR of (quick ? [4, 8] : [2, 4, 8, 16, 32]).filter((t) => t <= cap))
    for (const NR of quick ? [1, 4] : [1, 2, 4]) out.push({ TPR, NR });
  return out;
}

/** Checks a tile configuration against the device's limits; throws LimitError naming the limit. */
export function checkMatmulTiles(t: Record<string, number>, limits: GPUSupportedLimits): void {
  const threads = t.WG_X * t.WG_Y;
  if (threads > limits.maxComputeInvocationsPerWorkgroup) {
    throw new LimitError(
      `matmul: ${t.WG_X}×${t.WG_Y} = ${threads} threads exceeds maxComputeInvocationsPerWorkgroup ${limits.maxComputeInvocationsPerWorkgroup}`,
    );
  }
  const bytes = matmulTileBytes(t);
  if (bytes > limits.maxComputeWorkgroupStorageSize) {
    throw new LimitError(
      `matmul: tiles need ${bytes} bytes of workgroup storage, above maxComputeWorkgroupStorageSize ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  if (t.TILE_K % 4 !== 0) throw new LimitError(`matmul: TILE_K = ${t.TILE_K} must be a multiple of 4`);
}

/**
 * Shrinks a tile configuration until it fits the device: TILE_K halves first (down to 4; more barriers,
 * same parallelism), then the larger workgroup side. WebGPU's default limits (16 KiB of workgroup
 * storage, 256 invocations) are what phones, compatibility mode and an app's plain requestDevice() give;
 * a table tuned on a bigger adapter must still run there.
 */
export function fitMatmulTiles(t: Record<string, number>, limits: GPUSupportedLimits): Record<string, number> {
  const fit = { ...t };
  while (!matmulTilesFit(fit, limits)) {
    if (fit.TILE_K > 4 && matmulTileBytes(fit) > limits.maxComputeWorkgroupStorageSize) fit.TILE_K /= 2;
    else if (fit.WG_X >= fit.WG_Y && fit.WG_X > 1) fit.WG_X /= 2;
    else if (fit.WG_Y > 1) fit.WG_Y /= 2;
    else break; // 1×1 threads and TILE_K 4 do not fit: checkMatmulTiles names the limit
  }
  return fit;
}

export function matmulTiles(M: number, ctx: KernelContext): Record<string, number> {
  const cls = matmulShapeClass(M);
  const tiles = fitMatmulTiles(tuned(ctx.tuning, `matmul:${cls}`, DEFAULT_TILES[cls]), ctx.limits);
  checkMatmulTiles(tiles, ctx.limits);
  return tiles;
}

export const matmul: OpDescriptor<MatmulAttrs> = {
  name: 'matmul',
  inputs: ['a', 'b', ...EPILOGUE_INPUTS],
  shader: withLanes('matmul'),
  infer: inferMatmul('matmul'),
  kernel(inputs, _output, attrs, ctx) {
    const d = matmulDims('matmul', inputs, attrs);
    const epilogue = epilogueConstants(attrs);
    const glu = attrs.act === 'swiglu'; // pairs are not written by the vec4 stores
    const format: WeightFormat = attrs.transposeB ? 'f32_nk' : 'f32';
    // Decode-shaped: a GEMV reading every weight once, each dot product split over TPR threads.
    if (d.M === 1 && d.batch === 1 && (attrs.transposeB ? d.K % 4 === 0 : !glu))
      return gemvCall(format, d.K, d.N, epilogue, 'gemv', glu, ctx);
    const vec4 = d.K % 4 === 0 && d.N % 4 === 0 && !glu;
    return gemmCall(vec4 ? 'main_vec4' : 'main', format, d, epilogue, ctx);
  },
  reference: matmulReference,
  flops(inputs, _o, attrs) {
    const d = matmulDims('matmul', inputs, attrs);
    return 2 * d.batch * d.M * d.N * d.K;
  },
  bytes(inputs, output) {
    return (inputs.reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4;
  },
};

export function matmulReference(inputs: readonly Float64Array[], infos: readonly TensorInfo[], attrs: MatmulAttrs): Float64Array {
  const d = matmulDims('matmul', infos, attrs);
  const [A, B] = inputs;
  const { bias, residual, delta } = inputsByName(EPILOGUE_INPUTS, attrs, inputs.slice(2));
  const { M, N, K } = d;
  const out = new Float64Array(d.batch * M * N);
  for (let z = 0; z < d.batch; z++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const bv = attrs.transposeB ? B[z * d.strideB + n * K + k] : B[z * d.strideB + k * N + n];
          s += A[z * d.strideA + m * K + k] * bv;
        }
        const o = z * M * N + m * N + n;
        if (delta) s += delta[o];
        if (bias) s += bias[n];
        if (attrs.act === 'gelu') s = geluReference(s);
        if (residual) s += residual[o];
        out[o] = s;
      }
    }
  }
  return attrs.act === 'swiglu' ? swigluReference(out) : out;
}

/** Pairs (gate, up) of adjacent columns → silu(gate) · up, in float64. */
export function swigluReference(pairs: Float64Array): Float64Array {
  return Float64Array.from({ length: pairs.length / 2 }, (_, j) => {
    const g = pairs[2 * j];
    return (g / (1 + Math.exp(-g))) * pairs[2 * j + 1];
  });
}

/**
 * Interleaves the rows of gate [I, K] and up [I, K] (nn.Linear layout, row-major; or any per-row
 * packing of `rowLen` items) into [2I, K]: row 2j is gate j, row 2j + 1 up j, as act 'swiglu' expects.
 */
export function swigluRows<T extends Float32Array | Uint8Array>(gate: T, up: T, rowLen: number): T {
  const rows = gate.length / rowLen;
  const out = new (gate.constructor as new (n: number) => T)(2 * gate.length);
  for (let j = 0; j < rows; j++) {
    out.set(gate.subarray(j * rowLen, (j + 1) * rowLen), 2 * j * rowLen);
    out.set(up.subarray(j * rowLen, (j + 1) * rowLen), (2 * j + 1) * rowLen);
  }
  return out;
}

/** The override constants of the fused epilogue. */
export function epilogueConstants(attrs: { bias?: boolean; act?: MatmulAttrs['act']; residual?: boolean; delta?: boolean }) {
  return {
    HAS_DELTA: attrs.delta ? 1 : 0,
    HAS_BIAS: attrs.bias ? 1 : 0,
    ACT: attrs.act === 'gelu' ? 1 : attrs.act === 'swiglu' ? 2 : 0,
    HAS_RESIDUAL: attrs.residual ? 1 : 0,
  };
}

/** GELU, tanh approximation (GPT-2's `gelu_new`), in float64. */
export function geluReference(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** Bias, then GELU, then residual, in that order, as the kernel applies them. */
matmul.fuseEpilogue = (attrs, output, c) => {
  if (attrs.residual || attrs.act === 'swiglu') return null;
  if (c.op === 'gelu' && !attrs.act) return { ...attrs, act: 'gelu' };
  if (c.op !== 'add' || !c.other || c.other.dtype !== 'f32') return null;
  const n = output.shape[output.shape.length - 1];
  const isBias = c.other.shape.length === 1 && c.other.shape[0] === n && output.shape.length > 1;
  if (isBias && !attrs.bias && !attrs.act) return { ...attrs, bias: true };
  const sameShape = c.other.shape.length === output.shape.length && c.other.shape.every((d, i) => d === output.shape[i]);
  if (sameShape) return { ...attrs, residual: true };
  return null;
};

// sparse_attention: fused attention over the key blocks a BlockLayout lists (prefill, q/k/v [H, T, D])
// and sparse_attention_decode (one query per head at position length - 1 against [H, S, D] caches).
// The layout's CSR arrays are inputs (u32). Kernel: shaders/sparse_attention.wgsl.
import { ArgumentError, ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { BROADCAST_BYTES, checkHeads, checkKeyTile, headDimVariant, keyTile } from './attention';
import { kvVariant } from './attention_decode';
import { alibiSlopes, attendRow, checkScoreMods, scoreKernel, type ScoreMods } from './attention_score';
import { withReduce } from './reduce';
import { allowedPair, checkLayout, type BlockLayout } from './sparse_layout';
import { checkUniformValue, joinVariants, type OpDescriptor, type TensorInfo, type UniformValue } from './types';

const shader = withReduce('sparse_attention');

export interface SparseAttrs extends ScoreMods {
  layout: BlockLayout;
  /** Decode: keys that count (the query's position + 1), a number or a plan scalar. */
  length?: UniformValue;
}

/** q, k, v heads, the layout against the keys, and the CSR inputs against the layout. */
function checkInputs(op: string, inputs: readonly TensorInfo[], a: SparseAttrs) {
  const [q, k, v, rowPtr, colIdx] = inputs;
  const l = a.layout;
  checkHeads(op, q, k, v, k?.dtype === 'f16' ? 'f16' : 'f32');
  checkScoreMods(op, a);
  if (a.window !== undefined) throw new ArgumentError(`${op}: a window is the layout's (slidingLayout), not a score modifier`);
  checkLayout(l, k.shape[1], op);
  if (
    rowPtr.dtype !== 'u32' ||
    numel(rowPtr.shape) !== l.nBlocks + 1 ||
    colIdx.dtype !== 'u32' ||
    numel(colIdx.shape) !== l.colIdx.length
  ) {
    throw new ShapeError(
      `${op}: row_ptr ${formatShape(rowPtr.shape)} / col_idx ${formatShape(colIdx.shape)} do not match the layout (${l.nBlocks} blocks, ${l.colIdx.length} pairs)`,
    );
  }
  return { q, k };
}

/** A block-sparse float64 problem: q [H, T, D], k and v [H / group, S, D], the layout, where each query sits. */
export interface SparseProblem extends ScoreMods {
  H: number;
  T: number;
  S: number;
  D: number;
  layout: BlockLayout;
  /** The position of query t. */
  queryPos: (t: number) => number;
  /** Keys that count (default S). */
  length?: number;
  group?: number;
}

/** Dense float64 attention under the layout's element mask and the score hook; masked-out rows are zero. */
export function sparseReference(q: Float64Array, k: Float64Array, v: Float64Array, p: SparseProblem): Float64Array {
  const { H, T, S, D } = p;
  const group = p.group ?? 1;
  const scale = p.scale ?? 1 / Math.sqrt(D);
  const slopes = p.alibi ? alibiSlopes(H, p.alibi) : null;
  const out = new Float64Array(H * T * D);
  for (let t = 0; t < T; t++) {
    const qp = p.queryPos(t);
    const keys = Array.from({ length: p.length ?? S }, (_, j) => j).filter((j) => allowedPair(p.layout, qp, j));
    for (let h = 0; h < H; h++) {
      const r = attendRow(q, k, v, D, h * T + t, Math.floor(h / group) * S, keys, qp, slopes ? slopes[h] : 0, scale, p);
      if (r.l > 0) for (let d = 0; d < D; d++) out[(h * T + t) * D + d] = r.acc[d] / r.l;
    }
  }
  return out;
}

/** Override constants and uniforms shared by prefill and decode. */
function sparseKernel(q: TensorInfo, k: TensorInfo, a: SparseAttrs, ctx: { limits: GPUSupportedLimits }, causal: boolean) {
  const [H, , D] = q.shape;
  const score = scoreKernel(a, H, causal);
  // Prefill stages key tiles beside lib/broadcast's slot; decode stages none (its own arrays are small).
  const BK = Math.min(a.layout.blockSize, keyTile(D, ctx.limits, BROADCAST_BYTES));
  checkKeyTile('sparse_attention', BK, D, ctx.limits, BROADCAST_BYTES);
  return {
    variant: joinVariants(headDimVariant(D), kvVariant(k)),
    constants: {
      BQ: a.layout.blockSize,
      THREADS: a.layout.blockSize,
      BK,
      HEAD_DIM: D,
      ...score.constants,
    },
    uniforms: { scale: a.scale ?? 1 / Math.sqrt(D), group: H / k.shape[0], ...score.uniforms },
  };
}

export const sparseAttention: OpDescriptor<SparseAttrs> = {
  name: 'sparse_attention',
  inputs: ['q', 'k', 'v', 'row_ptr', 'col_idx', 'key_mask?'], // key_mask: lib/flash's binding, never set here
  shader,
  infer(inputs, a) {
    const { q, k } = checkInputs('sparse_attention', inputs, a);
    if (q.shape[1] !== k.shape[1] || k.dtype !== 'f32')
      throw new ShapeError(
        `sparse_attention: prefill needs as many queries as keys, in f32; got q ${formatShape(q.shape)}, k ${k.dtype} ${formatShape(k.shape)}`,
      );
    return { shape: q.shape, dtype: 'f32' };
  },
  kernel([q, k], _o, a, ctx) {
    const [H, T] = q.shape;
    const { variant, constants, uniforms } = sparseKernel(q, k, a, ctx, a.layout.causal);
    return { entry: 'main', variant, constants, uniforms: { T, L: T, ...uniforms }, grid: [a.layout.nBlocks, H, 1] };
  },
  reference([q, k, v], infos, a) {
    const [H, T, D] = infos[0].shape;
    return sparseReference(q, k, v, { ...a, H, T, S: T, D, queryPos: (t) => t, length: T, group: H / infos[1].shape[0] });
  },
  flops(inputs, _o, a) {
    const [H, , D] = inputs[0].shape;
    return 4 * H * D * a.layout.colIdx.length * a.layout.blockSize * a.layout.blockSize;
  },
  bytes: (inputs, output) => (inputs.slice(0, 3).reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4,
};

/** Decode against caches of f32 or of packed halves (k's dtype picks lib/kv or lib/kv_half). */
export const sparseAttentionDecode: OpDescriptor<SparseAttrs> = {
  name: 'sparse_attention_decode',
  inputs: ['q', 'k', 'v', 'row_ptr', 'col_idx', 'key_mask?'], // key_mask: lib/flash's binding, never set here
  shader,
  infer(inputs, a) {
    const { q, k } = checkInputs('sparse_attention_decode', inputs, a);
    if (q.shape[1] !== 1) throw new ShapeError(`sparse_attention_decode: q must be [H, 1, D], got ${formatShape(q.shape)}`);
    checkUniformValue('sparse_attention_decode', 'length', a.length);
    if (typeof a.length === 'number' && !(a.length >= 1 && a.length <= k.shape[1]))
      throw new ShapeError(`sparse_attention_decode: length ${a.length} outside 1..${k.shape[1]}`);
    return { shape: q.shape, dtype: 'f32' };
  },
  kernel([q, k], _o, a, ctx) {
    const { variant, constants, uniforms } = sparseKernel(q, k, a, ctx, true);
    return {
      entry: 'decode',
      variant,
      constants,
      uniforms: { T: k.shape[1], L: a.length ?? k.shape[1], ...uniforms },
      grid: [q.shape[0], 1, 1],
      ranges: { L: { min: 1, max: k.shape[1], what: 'cache length' } },
    };
  },
  reference([q, k, v], infos, a) {
    const [H, , D] = infos[0].shape;
    const S = infos[1].shape[1];
    const L = typeof a.length === 'number' ? a.length : S;
    return sparseReference(q, k, v, { ...a, H, T: 1, S, D, queryPos: () => L - 1, length: L, group: H / infos[1].shape[0] });
  },
};

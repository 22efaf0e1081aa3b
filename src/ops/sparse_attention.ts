// sparse_attention: fused attention over the key blocks a BlockLayout lists (prefill, q/k/v [H, T, D])
// and sparse_attention_decode (one query per head at position length - 1 against [H, S, D] caches).
// The layout's CSR arrays are inputs (u32). Kernel: shaders/sparse_attention.wgsl.
import { ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { attentionReference, checkHeads, keyTile } from './attention';
import { withReduce } from './reduce';
import { allowedPair, checkLayout, type BlockLayout } from './sparse_layout';
import { checkUniformValue, type OpDescriptor, type TensorInfo, type UniformValue } from './types';

const shader = withReduce('sparse_attention');
/** Workgroup bytes lib/reduce adds beside the key tiles (its 256-float tree and counters). */
const REDUCE_BYTES = 2048;

export interface SparseAttrs {
  layout: BlockLayout;
  /** Decode: keys that count (the query's position + 1), a number or a plan scalar. */
  length?: UniformValue;
}

/** q, k, v heads, the layout against the keys, and the CSR inputs against the layout. */
function checkInputs(op: string, inputs: readonly TensorInfo[], l: BlockLayout, kvDtype: 'f32' | 'f16' = 'f32') {
  const [q, k, v, rowPtr, colIdx] = inputs;
  checkHeads(op, q, k, v, kvDtype);
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

/** Dense float64 attention under the layout's element mask; masked-out rows are zero. */
export function sparseReference(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  H: number,
  T: number,
  S: number,
  D: number,
  l: BlockLayout,
  queryPos: (t: number) => number,
  length = S,
  group = 1,
): Float64Array {
  const out = new Float64Array(H * T * D);
  for (let t = 0; t < T; t++) {
    const qp = queryPos(t);
    // Rows with no allowed key stay zero; attentionReference handles one query at a time here.
    const keys = Array.from({ length }, (_, j) => j).filter((j) => allowedPair(l, qp, j));
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / group);
      const qs = q.subarray((h * T + t) * D, (h * T + t + 1) * D);
      const ks = new Float64Array(keys.length * D);
      const vs = new Float64Array(keys.length * D);
      keys.forEach((j, i) => {
        ks.set(k.subarray((kh * S + j) * D, (kh * S + j + 1) * D), i * D);
        vs.set(v.subarray((kh * S + j) * D, (kh * S + j + 1) * D), i * D);
      });
      if (keys.length) out.set(attentionReference(qs, ks, vs, 1, 1, keys.length, D, false, 0), (h * T + t) * D);
    }
  }
  return out;
}

export const sparseAttention: OpDescriptor<SparseAttrs> = {
  name: 'sparse_attention',
  inputs: ['q', 'k', 'v', 'row_ptr', 'col_idx'],
  shader,
  infer(inputs, a) {
    const { q, k } = checkInputs('sparse_attention', inputs, a.layout);
    if (q.shape[1] !== k.shape[1])
      throw new ShapeError(
        `sparse_attention: prefill needs as many queries as keys, got q ${formatShape(q.shape)}, k ${formatShape(k.shape)}`,
      );
    return { shape: q.shape, dtype: 'f32' };
  },
  kernel([q, k], _o, a, ctx) {
    const [H, T, D] = q.shape;
    return {
      entry: 'main',
      constants: {
        BQ: a.layout.blockSize,
        BK: Math.min(a.layout.blockSize, keyTile(D, ctx.limits, REDUCE_BYTES)),
        HEAD_DIM: D,
        CAUSAL: a.layout.causal ? 1 : 0,
      },
      uniforms: { T, L: T, scale: 1 / Math.sqrt(D), group: H / k.shape[0] },
      grid: [a.layout.nBlocks, H, 1],
    };
  },
  reference([q, k, v], infos, a) {
    const [H, T, D] = infos[0].shape;
    return sparseReference(q, k, v, H, T, T, D, a.layout, (t) => t, T, H / infos[1].shape[0]);
  },
  flops(inputs, _o, a) {
    const [H, , D] = inputs[0].shape;
    return 4 * H * D * a.layout.colIdx.length * a.layout.blockSize * a.layout.blockSize;
  },
  bytes: (inputs, output) => (inputs.slice(0, 3).reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4,
};

/** Decode against f32 caches ('sparse_attention_decode') or caches of packed halves ('…_half'). */
function sparseDecodeOp(half: boolean): OpDescriptor<SparseAttrs> {
  const name = half ? 'sparse_attention_decode_half' : 'sparse_attention_decode';
  return {
    name,
    inputs: ['q', 'k', 'v', 'row_ptr', 'col_idx'],
    shader: half ? withReduce('sparse_attention', { aliases: { 'lib/kv': 'lib/kv_half' }, suffix: '+kv_half' }) : shader,
    infer(inputs, a) {
      const { q, k } = checkInputs(name, inputs, a.layout, half ? 'f16' : 'f32');
      if (q.shape[1] !== 1) throw new ShapeError(`${name}: q must be [H, 1, D], got ${formatShape(q.shape)}`);
      checkUniformValue(name, 'length', a.length);
      if (typeof a.length === 'number' && !(a.length >= 1 && a.length <= k.shape[1]))
        throw new ShapeError(`${name}: length ${a.length} outside 1..${k.shape[1]}`);
      return { shape: q.shape, dtype: 'f32' };
    },
    kernel([q, k], _o, a, ctx) {
      const [H, , D] = q.shape;
      return {
        entry: 'decode',
        constants: {
          BQ: a.layout.blockSize,
          BK: Math.min(a.layout.blockSize, keyTile(D, ctx.limits, REDUCE_BYTES)),
          HEAD_DIM: D,
          CAUSAL: 1,
        },
        uniforms: { T: k.shape[1], L: a.length ?? k.shape[1], scale: 1 / Math.sqrt(D), group: H / k.shape[0] },
        grid: [H, 1, 1],
        ranges: { L: { min: 1, max: k.shape[1], what: 'cache length' } },
      };
    },
    reference([q, k, v], infos, a) {
      const [H, , D] = infos[0].shape;
      const S = infos[1].shape[1];
      const L = typeof a.length === 'number' ? a.length : S;
      return sparseReference(q, k, v, H, 1, S, D, a.layout, () => L - 1, L, H / infos[1].shape[0]);
    },
  };
}

export const sparseAttentionDecode = sparseDecodeOp(false);
export const sparseAttentionDecodeHalf = sparseDecodeOp(true);

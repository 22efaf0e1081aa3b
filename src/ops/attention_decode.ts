// Decode attention (flash-decoding): one query per head against a KV cache of the current length
// (a number or a per-run scalar), as two ops: attention_decode splits the keys across workgroups and
// writes partial results [H, splits, D + 2]; attention_combine merges them into [H, 1, D].
// Kernel: shaders/attention_decode.wgsl.
import { ShapeError, formatShape } from '../errors';
import { attentionReference, checkHeads } from './attention';
import { ceilDiv } from './grid';
import { withReduce } from './reduce';
import { checkUniformValue, type OpDescriptor, type UniformValue } from './types';

const WG = 64;
/** K/V caches of packed halves read through lib/kv_half instead of lib/kv. */
const HALF = { aliases: { 'lib/kv': 'lib/kv_half' }, suffix: '+kv_half' };

export interface DecodeAttrs {
  /** Keys in the cache that count: a number or a plan scalar (e.g. position + 1). */
  length: UniformValue;
  /** Keys per workgroup. */
  chunk?: number;
}

function chunkOf(attrs: DecodeAttrs, maxLen: number): number {
  // Small caches keep a few splits; long ones use 256 keys per workgroup.
  return attrs.chunk ?? (maxLen <= 1024 ? 64 : 256);
}

/** The split op for f32 caches ('attention_decode') or caches of packed halves ('attention_decode_half'). */
function decodeOp(half: boolean): OpDescriptor<DecodeAttrs> {
  const name = half ? 'attention_decode_half' : 'attention_decode';
  return {
    name,
    inputs: ['q', 'k', 'v'],
    shader: withReduce('attention_decode', half ? HALF : undefined),
    infer(inputs, attrs) {
      const [q, k, v] = inputs;
      const { H, D, S } = checkHeads(name, q, k, v, half ? 'f16' : 'f32');
      if (q.shape[1] !== 1) throw new ShapeError(`${name}: q must be [H, 1, D], got ${formatShape(q.shape)}`);
      checkUniformValue(name, 'length', attrs.length);
      if (typeof attrs.length === 'number' && !(attrs.length >= 1 && attrs.length <= S)) {
        throw new ShapeError(`${name}: length ${attrs.length} outside the cache's 1..${S}`);
      }
      return { shape: [H, ceilDiv(S, chunkOf(attrs, S)), D + 2], dtype: 'f32' };
    },
    kernel(inputs, output, attrs) {
      const [H, , D] = inputs[0].shape;
      const [KVH, S] = inputs[1].shape;
      return {
        entry: 'split',
        constants: { WG, HEAD_DIM: D, CHUNK: chunkOf(attrs, S) },
        uniforms: { L: attrs.length, max_len: S, scale: 1 / Math.sqrt(D), n_split: output.shape[1], group: H / KVH },
        grid: [output.shape[1], H, 1],
        ranges: { L: { min: 1, max: S, what: `cache length` } },
      };
    },
    /** The combined result's building blocks, in float64 (per split: Σ e^(s-m) v, m, Σ e^(s-m)). */
    reference([q, k, v], infos, attrs) {
      const [H, , D] = infos[0].shape;
      const [KVH, S] = infos[1].shape;
      const chunk = chunkOf(attrs, S);
      const n = ceilDiv(S, chunk);
      const L = attrs.length as number;
      const out = new Float64Array(H * n * (D + 2));
      for (let h = 0; h < H; h++) {
        const kh = Math.floor(h / (H / KVH));
        for (let s = 0; s < n; s++) {
          const b = (h * n + s) * (D + 2);
          const end = Math.min(L, (s + 1) * chunk);
          const scores: number[] = [];
          for (let j = s * chunk; j < end; j++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q[h * D + d] * k[(kh * S + j) * D + d];
            scores.push(dot / Math.sqrt(D));
          }
          const m = scores.length ? Math.max(...scores) : -3.402823e38;
          const w = scores.map((x) => Math.exp(x - m));
          for (let d = 0; d < D; d++) out[b + d] = w.reduce((a, p, i) => a + p * v[(kh * S + s * chunk + i) * D + d], 0);
          out[b + D] = m;
          out[b + D + 1] = w.reduce((a, p) => a + p, 0);
        }
      }
      return out;
    },
    flops: (inputs) => 4 * inputs[0].shape[0] * inputs[1].shape[1] * inputs[1].shape[2],
    bytes: (inputs) => 2 * inputs[1].shape[0] * inputs[1].shape[1] * inputs[1].shape[2] * (half ? 2 : 4),
  };
}

export const attentionDecode = decodeOp(false);
export const attentionDecodeHalf = decodeOp(true);

export const attentionCombine: OpDescriptor<Record<string, never>> = {
  name: 'attention_combine',
  inputs: ['partial'],
  shader: withReduce('attention_decode'),
  infer([p]) {
    if (p?.shape.length !== 3 || p.shape[2] < 3)
      throw new ShapeError(`attention_combine: partials must be [H, splits, D + 2], got ${p ? formatShape(p.shape) : 'nothing'}`);
    return { shape: [p.shape[0], 1, p.shape[2] - 2], dtype: 'f32' };
  },
  kernel([p]) {
    const [H, n, D2] = p.shape;
    return {
      entry: 'combine',
      constants: { WG, HEAD_DIM: D2 - 2, CHUNK: 1 },
      uniforms: { n_split: n },
      grid: [H, 1, 1],
    };
  },
  reference([p], [info]) {
    const [H, n, D2] = info.shape;
    const D = D2 - 2;
    const out = new Float64Array(H * D);
    for (let h = 0; h < H; h++) {
      const rows = Array.from({ length: n }, (_, s) => (h * n + s) * D2);
      const M = Math.max(...rows.map((b) => p[b + D]));
      const denom = rows.reduce((a, b) => a + Math.exp(p[b + D] - M) * p[b + D + 1], 0);
      for (let d = 0; d < D; d++) out[h * D + d] = rows.reduce((a, b) => a + Math.exp(p[b + D] - M) * p[b + d], 0) / denom;
    }
    return out;
  },
};

export { attentionReference };

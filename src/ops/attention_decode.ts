// Decode attention (flash-decoding): one query per head against a KV cache of the current length
// (a number or a per-run scalar), as two ops: attention_decode splits the keys across workgroups and
// writes partial results [H, splits, D + 2]; attention_combine merges them into [H, 1, D].
// Kernel: shaders/attention_decode.wgsl.
import { ShapeError, formatShape } from '../errors';
import { checkHeads, checkKeyMask } from './attention';
import { alibiSlopes, attendRow, checkScoreMods, scoreKernel, visibleKeys, type ScoreMods } from './attention_score';
import { ceilDiv } from './grid';
import { withReduce } from './reduce';
import { checkUniformValue, type OpDescriptor, type ShaderVariant, type TensorInfo, type UniformValue } from './types';

const WG = 64;

/** K/V caches of packed halves read through lib/kv_half instead of lib/kv: the cache's dtype picks the library. */
export function kvVariant(k: TensorInfo): ShaderVariant | undefined {
  return k.dtype === 'f16' ? { aliases: { 'lib/kv': 'lib/kv_half' }, suffix: '+kv_half' } : undefined;
}

export interface DecodeAttrs extends ScoreMods {
  /** Keys in the cache that count: a number or a plan scalar (e.g. position + 1). */
  length: UniformValue;
  /** Keys per workgroup. */
  chunk?: number;
  /** Key padding: input 'key_mask' (u32 [B, max_len], 0 = padding) follows v. */
  key_mask?: boolean;
}

function chunkOf(attrs: DecodeAttrs, maxLen: number): number {
  // Small caches keep a few splits; long ones use 256 keys per workgroup.
  return attrs.chunk ?? (maxLen <= 1024 ? 64 : 256);
}

/** The split op, for caches of f32 or of packed halves (k's dtype, 'f32' or 'f16'). */
export const attentionDecode: OpDescriptor<DecodeAttrs> = {
  name: 'attention_decode',
  inputs: ['q', 'k', 'v', 'key_mask?'],
  shader: withReduce('attention_decode'),
  infer(inputs, attrs) {
    const [q, k, v, mask] = inputs;
    const { H, D, S } = checkHeads('attention_decode', q, k, v, k?.dtype === 'f16' ? 'f16' : 'f32');
    if (q.shape[1] !== 1) throw new ShapeError(`attention_decode: q must be [H, 1, D], got ${formatShape(q.shape)}`);
    checkUniformValue('attention_decode', 'length', attrs.length);
    checkScoreMods('attention_decode', attrs);
    if (typeof attrs.length === 'number' && !(attrs.length >= 1 && attrs.length <= S)) {
      throw new ShapeError(`attention_decode: length ${attrs.length} outside the cache's 1..${S}`);
    }
    if (attrs.key_mask) checkKeyMask('attention_decode', mask, H, S);
    return { shape: [H, ceilDiv(S, chunkOf(attrs, S)), D + 2], dtype: 'f32' };
  },
  kernel(inputs, output, attrs) {
    const [H, , D] = inputs[0].shape;
    const [KVH, S] = inputs[1].shape;
    const perBatch = attrs.key_mask ? checkKeyMask('attention_decode', inputs[3], H, S) : H;
    const score = scoreKernel(attrs, perBatch, true);
    return {
      entry: 'split',
      variant: kvVariant(inputs[1]),
      constants: { WG, HEAD_DIM: D, CHUNK: chunkOf(attrs, S), KEY_MASK: attrs.key_mask ? 1 : 0, ...score.constants },
      uniforms: {
        L: attrs.length,
        S,
        scale: attrs.scale ?? 1 / Math.sqrt(D),
        n_split: output.shape[1],
        group: H / KVH,
        heads_per_batch: perBatch,
        ...score.uniforms,
      },
      grid: [output.shape[1], H, 1],
      ranges: { L: { min: 1, max: S, what: `cache length` } },
    };
  },
  /** The combined result's building blocks, in float64 (per split: Σ e^(s-m) v, m, Σ e^(s-m)). */
  reference([q, k, v, mask], infos, attrs) {
    const [H, , D] = infos[0].shape;
    const [KVH, S] = infos[1].shape;
    const chunk = chunkOf(attrs, S);
    const n = ceilDiv(S, chunk);
    const L = attrs.length as number;
    const perBatch = attrs.key_mask ? H / (mask.length / S) : H;
    const slopes = attrs.alibi ? alibiSlopes(perBatch, attrs.alibi) : null;
    const [lo, hi] = visibleKeys(L - 1, 0, L, true, attrs);
    const out = new Float64Array(H * n * (D + 2));
    for (let h = 0; h < H; h++) {
      const b = Math.floor(h / perBatch);
      for (let s = 0; s < n; s++) {
        const keys: number[] = [];
        for (let j = Math.max(lo, s * chunk); j < Math.min(hi, (s + 1) * chunk); j++) if (!attrs.key_mask || mask[b * S + j]) keys.push(j);
        const slope = slopes ? slopes[h % perBatch] : 0;
        const r = attendRow(q, k, v, D, h, Math.floor(h / (H / KVH)) * S, keys, L - 1, slope, attrs.scale ?? 1 / Math.sqrt(D), attrs);
        const base = (h * n + s) * (D + 2);
        out.set(r.acc, base);
        out[base + D] = r.m;
        out[base + D + 1] = r.l;
      }
    }
    return out;
  },
  flops: (inputs) => 4 * inputs[0].shape[0] * inputs[1].shape[1] * inputs[1].shape[2],
  bytes: (inputs) => 2 * inputs[1].shape[0] * inputs[1].shape[1] * inputs[1].shape[2] * (inputs[1].dtype === 'f16' ? 2 : 4),
};

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

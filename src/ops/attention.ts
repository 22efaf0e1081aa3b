// attention: fused softmax(q kᵀ / sqrt(D)) v with an optional causal mask, for q [H, T, D] and
// k, v [KVH, S, D] (KVH dividing H: grouped-query attention, query head h reading KV head h / (H / KVH)); D a multiple of 4 up to 128 (GPT-2's 64, and 32, 80, 128). Causal query t sees keys
// ≤ t + qOffset (default S - T: the queries are the last T positions). Kernel: shaders/attention.wgsl.
import { compose } from '../wgsl/compose';
import { LimitError, ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { ceilDiv, tuned } from './grid';
import type { OpDescriptor, TensorInfo } from './types';

/**
 * Keys per staged tile: 32 where K and V tiles of 32 rows fit the workgroup storage beside `reserved`
 * bytes the kernel uses for other things (half the barriers and rescales of 16), else 16. With
 * WebGPU's default 16 KiB that is 32 up to head dim 64 for dense attention.
 */
export function keyTile(D: number, limits: { maxComputeWorkgroupStorageSize: number }, reserved = 0): number {
  return 2 * 32 * D * 4 + reserved <= limits.maxComputeWorkgroupStorageSize ? 32 : 16;
}

export interface AttentionAttrs {
  causal?: boolean;
  qOffset?: number;
}

/** q, k, v as [heads, seq, headDim] with GQA heads; `kvDtype` 'f16' for caches of packed halves. */
export function checkHeads(
  op: string,
  q: TensorInfo | undefined,
  k: TensorInfo | undefined,
  v: TensorInfo | undefined,
  kvDtype: 'f32' | 'f16' = 'f32',
) {
  if (!q || !k || !v) throw new ShapeError(`${op}: needs q, k and v`);
  const shapes = `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`;
  if (q.shape.length !== 3 || k.shape.length !== 3 || v.shape.length !== 3)
    throw new ShapeError(`${op}: q, k, v must be [heads, seq, headDim]; got ${shapes}`);
  const [H, , D] = q.shape;
  const KVH = k.shape[0];
  if (v.shape[0] !== KVH || k.shape[2] !== D || v.shape[2] !== D || k.shape[1] !== v.shape[1]) {
    throw new ShapeError(`${op}: k and v heads, key lengths and head dims must agree with q's; got ${shapes}`);
  }
  if (!(KVH >= 1 && H % KVH === 0)) throw new ShapeError(`${op}: ${KVH} KV heads must divide ${H} query heads; got ${shapes}`);
  if (D % 4 !== 0 || D > 128) throw new LimitError(`${op}: head dim ${D} is not supported (a multiple of 4, at most 128)`);
  if (q.dtype !== 'f32' || k.dtype !== kvDtype || v.dtype !== kvDtype)
    throw new ShapeError(`${op}: q must be f32 and k, v ${kvDtype}; got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  return { H, D, S: k.shape[1], group: H / KVH };
}

/** Dense float64 attention with the same mask semantics; rows with no visible key are zero. */
export function attentionReference(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  H: number,
  T: number,
  S: number,
  D: number,
  causal: boolean,
  qOffset: number,
  length = S,
  group = 1,
): Float64Array {
  const out = new Float64Array(H * T * D);
  const scale = 1 / Math.sqrt(D);
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / group); // the KV head of query head h
    for (let t = 0; t < T; t++) {
      const last = causal ? Math.min(length - 1, t + qOffset) : length - 1;
      const scores: number[] = [];
      let m = -Infinity;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[(h * T + t) * D + d] * k[(kh * S + j) * D + d];
        scores.push(s * scale);
        m = Math.max(m, s * scale);
      }
      const w = scores.map((s) => Math.exp(s - m));
      const sum = w.reduce((a, b) => a + b, 0);
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j] * v[(kh * S + j) * D + d];
        out[(h * T + t) * D + d] = w.length ? acc / sum : 0;
      }
    }
  }
  return out;
}

export const attention: OpDescriptor<AttentionAttrs> = {
  name: 'attention',
  inputs: ['q', 'k', 'v'],
  shader: compose('attention'),
  infer(inputs, attrs) {
    const [q, k, v] = inputs;
    if (inputs.length !== 3) throw new ShapeError(`attention: needs exactly q, k, v; got ${inputs.length} inputs`);
    const { S } = checkHeads('attention', q, k, v);
    const off = attrs.qOffset ?? S - q.shape[1];
    if (attrs.causal && off < 0) throw new ShapeError(`attention: causal with ${q.shape[1]} queries and only ${S} keys needs qOffset ≥ 0`);
    return { shape: q.shape, dtype: 'f32' };
  },
  kernel(inputs, _o, attrs, ctx) {
    const [q] = inputs;
    const { H, D, S, group } = checkHeads('attention', ...(inputs as [TensorInfo, TensorInfo, TensorInfo]));
    const T = q.shape[1];
    const t = tuned(ctx.tuning, 'attention', { BQ: 64, BK: keyTile(D, ctx.limits) });
    if (t.BQ > ctx.limits.maxComputeInvocationsPerWorkgroup)
      throw new LimitError(`attention: BQ ${t.BQ} exceeds maxComputeInvocationsPerWorkgroup`);
    if (!(t.BK === 16 || t.BK === 32) || 2 * t.BK * D * 4 > ctx.limits.maxComputeWorkgroupStorageSize)
      throw new LimitError(
        `attention: a key tile of ${t.BK} rows of head dim ${D} needs ${2 * t.BK * D * 4} bytes of workgroup storage (16 or 32 rows; the device allows ${ctx.limits.maxComputeWorkgroupStorageSize})`,
      );
    return {
      entry: 'main',
      constants: { BQ: t.BQ, BK: t.BK, HEAD_DIM: D, CAUSAL: attrs.causal ? 1 : 0 },
      uniforms: { T, S, scale: 1 / Math.sqrt(D), q_offset: attrs.qOffset ?? S - T, group },
      grid: [ceilDiv(T, t.BQ), H, 1],
    };
  },
  reference([q, k, v], infos, attrs) {
    const [H, T, D] = infos[0].shape;
    const S = infos[1].shape[1];
    return attentionReference(q, k, v, H, T, S, D, !!attrs.causal, attrs.qOffset ?? S - T, S, H / infos[1].shape[0]);
  },
  flops(inputs, _o, attrs) {
    const [H, T, D] = inputs[0].shape;
    const S = inputs[1].shape[1];
    const pairs = attrs.causal ? (T * (T + 1)) / 2 + T * (S - T) : T * S;
    return 4 * H * pairs * D;
  },
  bytes: (inputs, output) => (inputs.reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4,
};

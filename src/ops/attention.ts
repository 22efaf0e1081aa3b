// attention: fused softmax(score(q kᵀ · scale)) v for q [H, T, D] and k, v [KVH, S, D] (KVH dividing H:
// grouped-query attention, query head h reading KV head h / (H / KVH)); D a multiple of 4 up to 256.
// Causal query t sees keys ≤ t + qOffset (default S - T: the queries are the last T positions). The
// score hook (attention_score.ts, shaders/lib/score.wgsl) adds an explicit scale, soft-capping, ALiBi
// and a sliding window; optional inputs add a packed variable-length batch (cu_seqlens) or key padding
// (key_mask). Kernel: shaders/attention.wgsl.
import { compose } from '../wgsl/compose';
import { LimitError, ShapeError, formatShape } from '../errors';
import { numel } from '../gpu/tensor';
import { attentionReference, checkScoreMods, scoreKernel, type ScoreMods } from './attention_score';
import { ceilDiv, tuned } from './grid';
import { checkUniformValue, joinVariants, type OpDescriptor, type ShaderVariant, type TensorInfo, type UniformValue } from './types';

/** The key tiles the flash kernels take (keys staged at a time). */
export const KEY_TILES = [32, 16, 8, 4] as const;

/** Workgroup bytes lib/broadcast's slot takes beside the key tiles (a u32, padded as the compiler counts it). */
export const BROADCAST_BYTES = 16;

/**
 * Keys per staged tile: the largest of KEY_TILES where K and V tiles of that many rows fit the
 * workgroup storage beside `reserved` bytes the kernel uses for other things (32 halves the barriers
 * and rescales of 16). With WebGPU's default 16 KiB that is 32 up to head dim 64, 8 at 256.
 */
export function keyTile(D: number, limits: { maxComputeWorkgroupStorageSize: number }, reserved = 0): number {
  return KEY_TILES.find((bk) => keyTileBytes(bk, D, reserved) <= limits.maxComputeWorkgroupStorageSize) ?? 4;
}

/** Workgroup bytes of K and V tiles of `bk` rows of head dim D, plus `reserved`. */
export function keyTileBytes(bk: number, D: number, reserved = 0): number {
  return 2 * bk * D * 4 + reserved;
}

/** Throws LimitError unless a key tile of `bk` rows (one of KEY_TILES) fits the device beside `reserved` bytes. */
export function checkKeyTile(op: string, bk: number, D: number, limits: GPUSupportedLimits, reserved = 0): void {
  const bytes = keyTileBytes(bk, D, reserved);
  if (!(KEY_TILES as readonly number[]).includes(bk) || bytes > limits.maxComputeWorkgroupStorageSize)
    throw new LimitError(
      `${op}: a key tile of ${bk} rows of head dim ${D} needs ${bytes} bytes of workgroup storage (${KEY_TILES.join(', ')} rows; the device allows ${limits.maxComputeWorkgroupStorageSize})`,
    );
}

/**
 * The configurations the autotuner times for head dim D on a device: queries per workgroup × key
 * tiles of 16 or 32 rows where they fit (the smaller tiles are only for what nothing else fits).
 */
export function attentionCandidates(D: number, limits: GPUSupportedLimits): { BQ: number; BK: number; ROWS: number }[] {
  const tiles = [16, 32].filter((BK) => keyTileBytes(BK, D) <= limits.maxComputeWorkgroupStorageSize);
  return [32, 64, 128].flatMap((BQ) =>
    [1, 4, 8]
      .filter((ROWS) => BQ / ROWS >= 4 && BQ / ROWS <= limits.maxComputeInvocationsPerWorkgroup)
      .flatMap((ROWS) => tiles.map((BK) => ({ BQ, BK, ROWS }))),
  );
}

/**
 * The tuning key of an attention of T queries: 'attention:short' up to 256 queries (few query blocks,
 * where smaller workgroups keep more of them in flight), else 'attention'.
 */
export function attentionKey(T: number): 'attention' | 'attention:short' {
  return T <= 256 ? 'attention:short' : 'attention';
}

/** Query rows per thread the flash core has a variant for (lib/flash_rows_N). */
export const FLASH_ROWS = [1, 2, 4, 8] as const;

/** The variant with `rows` query rows per thread (lib/flash_rows_1 is the default). */
function rowsVariant(rows: number): ShaderVariant | undefined {
  return rows === 1 ? undefined : { aliases: { 'lib/flash_rows_1': `lib/flash_rows_${rows}` }, suffix: `+rows${rows}` };
}

/** Head dims above 128 swap in lib/head_dim_256 (twice the per-thread rows). */
export function headDimVariant(D: number): ShaderVariant | undefined {
  return D > 128 ? { aliases: { 'lib/head_dim_128': 'lib/head_dim_256' }, suffix: '+d256' } : undefined;
}

export interface AttentionAttrs extends ScoreMods {
  causal?: boolean;
  /**
   * Query t sits at position t + qOffset (default S - T). A plan scalar (g.scalar()) lets one plan
   * serve queries at any offset into a KV cache: a prefill that continues a cached prefix.
   */
  qOffset?: UniformValue;
  /** A packed variable-length batch: input 'cu_seqlens' (u32 [n + 1], 0 … T) follows v, and T = S. */
  cu_seqlens?: boolean;
  /** Key padding: input 'key_mask' (u32 [B, S], 0 = padding) follows; query head h is in batch row h / (H / B). */
  key_mask?: boolean;
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
  if (D % 4 !== 0 || D > 256) throw new LimitError(`${op}: head dim ${D} is not supported (a multiple of 4, at most 256)`);
  if (q.dtype !== 'f32' || k.dtype !== kvDtype || v.dtype !== kvDtype)
    throw new ShapeError(`${op}: q must be f32 and k, v ${kvDtype}; got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  return { H, D, S: k.shape[1], group: H / KVH };
}

/**
 * A key-padding mask [B, S] (u32) for H query heads and S keys: B must divide H. Returns the query
 * heads per batch row.
 */
export function checkKeyMask(op: string, mask: TensorInfo | undefined, H: number, S: number): number {
  if (!mask) return H;
  const [B, len] = mask.shape;
  if (mask.dtype !== 'u32' || mask.shape.length !== 2 || len !== S || !(B >= 1 && H % B === 0))
    throw new ShapeError(
      `${op}: key_mask must be u32 [B, ${S}] with B dividing the ${H} query heads (batch folded into heads); got ${mask.dtype} ${formatShape(mask.shape)}`,
    );
  return H / B;
}

/** The optional inputs after q, k, v, by name. */
function extras(inputs: readonly TensorInfo[], a: AttentionAttrs) {
  let i = 3;
  const cu = a.cu_seqlens ? inputs[i++] : undefined;
  const mask = a.key_mask ? inputs[i++] : undefined;
  return { cu, mask };
}

export const attention: OpDescriptor<AttentionAttrs> = {
  name: 'attention',
  inputs: ['q', 'k', 'v', 'cu_seqlens?', 'key_mask?'],
  shader: (_ctx, variant) => compose('attention', { aliases: variant?.aliases, name: `attention${variant?.suffix ?? ''}` }),
  infer(inputs, attrs) {
    const [q, k, v] = inputs;
    const want = 3 + (attrs.cu_seqlens ? 1 : 0) + (attrs.key_mask ? 1 : 0);
    if (inputs.length !== want)
      throw new ShapeError(`attention: needs q, k, v and its optional inputs (${want}); got ${inputs.length} inputs`);
    const { H, S } = checkHeads('attention', q, k, v);
    checkScoreMods('attention', attrs);
    const T = q.shape[1];
    checkUniformValue('attention', 'qOffset', attrs.qOffset);
    const off = attrs.qOffset ?? S - T;
    if (typeof off !== 'number') {
      if (attrs.cu_seqlens) throw new ShapeError('attention: a packed batch (cu_seqlens) takes no qOffset scalar');
    } else if (attrs.causal && off < 0) throw new ShapeError(`attention: causal with ${T} queries and only ${S} keys needs qOffset ≥ 0`);
    const { cu, mask } = extras(inputs, attrs);
    if (cu) {
      if (cu.dtype !== 'u32' || cu.shape.length !== 1 || cu.shape[0] < 2)
        throw new ShapeError(`attention: cu_seqlens must be u32 [sequences + 1]; got ${cu.dtype} ${formatShape(cu.shape)}`);
      if (T !== S || (typeof off === 'number' && off !== 0))
        throw new ShapeError(
          `attention: a packed batch needs as many queries as keys and qOffset 0; got q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, qOffset ${off}`,
        );
    }
    checkKeyMask('attention', mask, H, S);
    return { shape: q.shape, dtype: 'f32' };
  },
  kernel(inputs, _o, attrs, ctx) {
    const [q] = inputs;
    const { H, D, S, group } = checkHeads('attention', inputs[0], inputs[1], inputs[2]);
    const { cu, mask } = extras(inputs, attrs);
    const T = q.shape[1];
    const reserved = cu ? BROADCAST_BYTES : 0;
    const t = tuned(ctx.tuning, attentionKey(T), { BQ: 64, BK: keyTile(D, ctx.limits, reserved), ROWS: 1 });
    if (!(FLASH_ROWS as readonly number[]).includes(t.ROWS) || t.BQ % t.ROWS !== 0)
      throw new LimitError(`attention: ${t.ROWS} rows per thread must be one of ${FLASH_ROWS.join(', ')} and divide BQ ${t.BQ}`);
    if (t.BQ / t.ROWS > ctx.limits.maxComputeInvocationsPerWorkgroup)
      throw new LimitError(`attention: BQ ${t.BQ} / ROWS ${t.ROWS} threads exceed maxComputeInvocationsPerWorkgroup`);
    checkKeyTile('attention', t.BK, D, ctx.limits, reserved);
    const perBatch = checkKeyMask('attention', mask, H, S);
    const score = scoreKernel(attrs, perBatch, !!attrs.causal);
    return {
      entry: cu ? 'varlen' : 'main',
      variant: joinVariants(headDimVariant(D), rowsVariant(t.ROWS)),
      constants: { BQ: t.BQ, THREADS: t.BQ / t.ROWS, BK: t.BK, HEAD_DIM: D, KEY_MASK: mask ? 1 : 0, ...score.constants },
      uniforms: {
        T,
        S,
        scale: attrs.scale ?? 1 / Math.sqrt(D),
        q_offset: attrs.qOffset ?? S - T,
        group,
        n_seqs: cu ? cu.shape[0] - 1 : 0,
        heads_per_batch: perBatch,
        ...score.uniforms,
      },
      grid: [ceilDiv(T, t.BQ), H, 1],
      // A scalar offset: every query position must be a key of the cache.
      ranges: { q_offset: { min: 0, max: S - T, what: 'query offset' } },
    };
  },
  reference(values, infos, attrs) {
    const [H, T, D] = infos[0].shape;
    const S = infos[1].shape[1];
    let i = 3;
    const cuSeqlens = attrs.cu_seqlens ? values[i++] : undefined;
    const keyMask = attrs.key_mask ? values[i++] : undefined;
    return attentionReference(values[0], values[1], values[2], {
      ...attrs,
      qOffset: attrs.qOffset as number | undefined, // a scalar arrives here as the number fed
      H,
      T,
      S,
      D,
      group: H / infos[1].shape[0],
      cuSeqlens,
      keyMask,
    });
  },
  flops(inputs, _o, attrs) {
    const [H, T, D] = inputs[0].shape;
    const S = inputs[1].shape[1];
    const pairs = attrs.causal ? (T * (T + 1)) / 2 + T * (S - T) : T * S;
    return 4 * H * pairs * D;
  },
  bytes: (inputs, output) => (inputs.slice(0, 3).reduce((s, t) => s + numel(t.shape), 0) + numel(output.shape)) * 4,
};

export { attentionReference };

// A float64 Llama forward pass on a GGUF file's own decoded weights (llama.cpp's layout: q/k rows
// permuted by convert_hf_to_gguf.py, so RoPE rotates adjacent pairs as llama.cpp's mode 0 does). Block
// types are decoded by the engine's CPU decoders (dequantize → src/ops/ggml-blocks.ts); everything after
// that is float64. Dense causal attention, grouped-query heads, SiLU MLP, tied or separate lm_head.
import { type GGUFFile, dequantize } from '../../src/index';

/** Logits [T, vocab] of every position of `ids`, in float64. */
export function llamaGGUFReference(file: GGUFFile, ids: readonly number[]): Float64Array {
  const num = (key: string) => {
    const v = file.metadata.get(`llama.${key}`);
    if (typeof v !== 'number') throw new Error(`llamaGGUFReference: metadata 'llama.${key}' is not a number`);
    return v;
  };
  const [L, C, H, KVH, I, base, eps] = [
    num('block_count'),
    num('embedding_length'),
    num('attention.head_count'),
    num('attention.head_count_kv'),
    num('feed_forward_length'),
    num('rope.freq_base'),
    num('attention.layer_norm_rms_epsilon'),
  ];
  const D = C / H;
  const T = ids.length;
  const vec = (name: string) => Float64Array.from(file.float32(name));
  const mat = (name: string) => (file.tensors.get(name)?.type === 0 ? vec(name) : dequantize(file.quantized(name))); // [N, K]
  /** y [T, N] = x [T, K] · Wᵀ. */
  const linear = (x: Float64Array, w: Float64Array, K: number) => {
    const N = w.length / K;
    const y = new Float64Array(T * N);
    for (let t = 0; t < T; t++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += x[t * K + k] * w[n * K + k];
        y[t * N + n] = s;
      }
    return y;
  };
  const rms = (x: Float64Array, g: Float64Array) => {
    const y = new Float64Array(x.length);
    for (let t = 0; t < T; t++) {
      let ss = 0;
      for (let c = 0; c < C; c++) ss += x[t * C + c] ** 2;
      const r = 1 / Math.sqrt(ss / C + eps);
      for (let c = 0; c < C; c++) y[t * C + c] = x[t * C + c] * r * g[c];
    }
    return y;
  };
  const rope = (x: Float64Array, heads: number) => {
    for (let t = 0; t < T; t++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < D / 2; i++) {
          const a = t * base ** ((-2 * i) / D);
          const o = (t * heads + h) * D + 2 * i;
          const [x0, x1] = [x[o], x[o + 1]];
          x[o] = x0 * Math.cos(a) - x1 * Math.sin(a);
          x[o + 1] = x0 * Math.sin(a) + x1 * Math.cos(a);
        }
  };
  const embd = mat('token_embd.weight');
  let x = new Float64Array(T * C);
  for (const [t, id] of ids.entries()) x.set(embd.subarray(id * C, (id + 1) * C), t * C);
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    const h = rms(x, vec(`${p}attn_norm.weight`));
    const [q, k, v] = ['attn_q', 'attn_k', 'attn_v'].map((n) => linear(h, mat(`${p}${n}.weight`), C));
    rope(q, H);
    rope(k, KVH);
    const att = new Float64Array(T * H * D);
    for (let hd = 0; hd < H; hd++) {
      const kh = Math.floor(hd / (H / KVH));
      for (let t = 0; t < T; t++) {
        const s = Array.from({ length: t + 1 }, (_, u) => {
          let d = 0;
          for (let i = 0; i < D; i++) d += q[(t * H + hd) * D + i] * k[(u * KVH + kh) * D + i];
          return d / Math.sqrt(D);
        });
        const m = Math.max(...s);
        const e = s.map((z) => Math.exp(z - m));
        const Z = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u <= t; u++) for (let i = 0; i < D; i++) att[(t * H + hd) * D + i] += (e[u] / Z) * v[(u * KVH + kh) * D + i];
      }
    }
    const o = linear(att, mat(`${p}attn_output.weight`), H * D);
    x = x.map((z, i) => z + o[i]);
    const f = rms(x, vec(`${p}ffn_norm.weight`));
    const [g, u] = [linear(f, mat(`${p}ffn_gate.weight`), C), linear(f, mat(`${p}ffn_up.weight`), C)];
    const a = g.map((z, i) => (z / (1 + Math.exp(-z))) * u[i]);
    const d = linear(a, mat(`${p}ffn_down.weight`), I);
    x = x.map((z, i) => z + d[i]);
  }
  return linear(rms(x, vec('output_norm.weight')), file.tensors.has('output.weight') ? mat('output.weight') : embd, C);
}

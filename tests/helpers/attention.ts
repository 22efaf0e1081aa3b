// What the attention suites share: Hugging Face's repeat_kv, the truth for grouped-query attention.

/** KV heads [KVH, n] each repeated H / KVH times → [H, n] (Hugging Face's repeat_kv). */
export function repeatKV(t: Float32Array, H: number, KVH: number, n: number): Float64Array {
  const out = new Float64Array(H * n);
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / (H / KVH));
    out.set(t.subarray(kh * n, (kh + 1) * n), h * n);
  }
  return out;
}

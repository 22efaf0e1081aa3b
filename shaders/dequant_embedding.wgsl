// Token + position embedding with a packed token table (the layouts of quantize.ts, rows are tokens
// and K = C): out[t, c] = dequant(wq)[ids[t], c] + wpe[pos + t, c]. Lets GPT-2 keep one int8 copy of
// wte for both the embedding and lm_head (dequant_matmul reads the same packed words).
// The kernel is lib/embedding.wgsl; this file gives its bindings and how a token row is read.
// Bindings: 0 params, 1 ids (u32), 2 qw, 3 scales, 4 wpe [P, C], 5 out [T, C]. lib/unpack gives the
// int8 unpacking (shifts, or the pack4x8 builtins where the adapter has them).
//#import lib/embedding
//#import lib/unpack
//#import lib/q8_0

// 1: per-channel int8 (a scale per row), 2: f16, 3: bf16, 4..15: llama.cpp blocks (q4_0, q4_k, q6_k,
// q8_0, q5_0, q4_1, q5_1, q2_k, q3_k, q5_k, iq4_nl, iq4_xs), whose block type is lib/q8_0 or the twin
// the op aliases for it (ops/matmul.ts WEIGHT_FORMATS)
override SCHEME: u32 = 1;

@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> qw: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> wpe: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

fn token_value(row: u32, c: u32) -> f32 {
  if (SCHEME >= 4u) {
    // Rows are whole blocks: ceil(C / BLOCK_LEN) of them.
    let at = (row * ((params.C + BLOCK_LEN - 1u) / BLOCK_LEN) + c / BLOCK_LEN) * BLOCK_BYTES;
    return block_weights4(at, c & ~3u)[c % 4u];
  }
  if (SCHEME >= 2u) {
    // Two 16-bit weights per word (IEEE halves, or bfloat16: the top of an f32), rows padded to 8.
    let w = qw[row * ((params.C + 7u) / 8u * 4u) + c / 2u];
    if (SCHEME == 3u) { return bitcast<f32>(select(w << 16u, w & 0xffff0000u, c % 2u == 1u)); }
    return unpack2x16float(w)[c % 2u];
  }
  // Per-channel int8: rows padded to 16 weights, one scale per row.
  let q = unpack_bytes(qw[row * ((params.C + 15u) / 16u * 4u) + c / 4u])[c % 4u];
  return f32(q) * scales[row];
}

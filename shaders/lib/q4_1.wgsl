// llama.cpp's Q4_1 block (20 bytes, 32 weights; block_q4_1 in ggml-common.h, dequantize_row_q4_1 in
// ggml-quants.c): f16 d at byte 0, f16 m at byte 2, then 16 bytes qs whose low nibbles are weights
// 0..15 and high nibbles 16..31; w = d · q + m. Twin of lib/q8_0.wgsl (same functions).
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 32u;
const BLOCK_BYTES: u32 = 20u;

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let j = k % 32u;
  return nibbles4(word_at(at + 4u + j % 16u), j / 16u) * half_at(at) + half_at(at + 2u);
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  // qs word j holds weights 4j..4j+3 (low nibbles) and 16+4j.. (high)
  let w = words4_at(at + 4u);
  var q = 0.0;
  for (var j = 0u; j < 4u; j++) { q += dot(nibbles4(w[j], 0u), (*x).x[j]) + dot(nibbles4(w[j], 1u), (*x).x[j + 4u]); }
  return half_at(at) * q + half_at(at + 2u) * ((*x).sum.x + (*x).sum.y);
}

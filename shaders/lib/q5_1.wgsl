// llama.cpp's Q5_1 block (24 bytes, 32 weights; block_q5_1 in ggml-common.h, dequantize_row_q5_1 in
// ggml-quants.c): f16 d at byte 0, f16 m at byte 2, a little-endian u32 qh at byte 4 whose bit i is
// weight i's fifth bit, 16 bytes qs at byte 8 (low nibbles weights 0..15, high nibbles 16..31);
// w = d · q + m. Twin of lib/q5_0.wgsl and lib/q8_0.wgsl (same functions).
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 32u;
const BLOCK_BYTES: u32 = 24u;

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let j = k % 32u;
  let q = nibbles4(word_at(at + 8u + j % 16u), j / 16u) + high4_16(word_at(at + 4u) >> j);
  return q * half_at(at) + half_at(at + 2u);
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  return half_at(at) * quants5_dot32(at + 8u, word_at(at + 4u), x) + half_at(at + 2u) * ((*x).sum.x + (*x).sum.y);
}

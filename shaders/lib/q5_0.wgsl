// llama.cpp's Q5_0 block (22 bytes, 32 weights; block_q5_0 in ggml-common.h, dequantize_row_q5_0 in
// ggml-quants.c): an f16 scale d at byte 0, a little-endian u32 qh at byte 2 whose bit i is weight i's
// fifth bit, and 16 bytes qs at byte 6 whose low nibbles are weights 0..15 and high nibbles 16..31;
// w = d · (q − 16). Blocks are 22 bytes, so they start on an even byte: every field is read at an even
// offset (lib/ggml_blocks). Twin of lib/q4_0.wgsl and lib/q8_0.wgsl (same functions). ggml-quants.c's
// xh_0 = ((qh >> j) << 4) & 0x10 and xh_1 = (qh >> (j + 12)) & 0x10 are bits j and j + 16 of qh: weight i's
// fifth bit is bit i (high4_16).
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 32u;
const BLOCK_BYTES: u32 = 22u;

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let j = k % 32u;
  let q = nibbles4(word_at(at + 6u + j % 16u), j / 16u) + high4_16(word_at(at + 2u) >> j);
  return (q - 16.0) * half_at(at);
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  return half_at(at) * (quants5_dot32(at + 6u, word_at(at + 2u), x) - 16.0 * ((*x).sum.x + (*x).sum.y));
}

// llama.cpp's Q5_K super-block (176 bytes, 256 weights; block_q5_K in ggml-common.h,
// dequantize_row_q5_K in ggml-quants.c): f16 d and dmin, 12 bytes of 6-bit scales and mins as q4_k's
// (scale_min_k4), qh[32] at byte 16, 128 bytes of nibbles at byte 48 as q4_k's (sub-block j: nibble
// j % 2 of the 32 bytes at 48 + 32 (j / 2)); weight r's fifth bit is bit r / 32 of qh[r % 32];
// w = d · sc_j · q − dmin · m_j. Blocks start on a word. Twin of lib/q4_k.wgsl and lib/q8_0.wgsl.
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 256u;
const BLOCK_BYTES: u32 = 176u;

/** Weights r..r+3 (r = k % 256, a multiple of 4) as 5-bit quants. */
fn q5_k_quants4(at: u32, r: u32) -> vec4<f32> {
  let j = r / 32u;
  let low = nibbles4(qw[(at + 48u + 32u * (r / 64u) + r % 32u) / 4u], j % 2u);
  return low + bytes4((qw[(at + 16u + r % 32u) / 4u] >> j) & 0x01010101u) * 16.0;
}

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let r = k % 256u;
  let s = scale_min_k4(at, r / 32u);
  return q5_k_quants4(at, r) * s.x - s.y;
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  let r = k % 256u;
  let s = scale_min_k4(at, r / 32u);
  var q = 0.0;
  for (var i = 0u; i < 8u; i++) { q += dot(q5_k_quants4(at, r + 4u * i), (*x).x[i]); }
  return s.x * q - s.y * ((*x).sum.x + (*x).sum.y);
}

// llama.cpp's Q2_K super-block (84 bytes, 256 weights; block_q2_K in ggml-common.h,
// dequantize_row_q2_K in ggml-quants.c): 16 scale bytes (low nibble the scale, high nibble the min of
// 16 weights), 64 bytes qs at byte 16, f16 d at byte 80, f16 dmin at 82. Weight r = 128h + 32j + l is
// bits 2j, 2j + 1 of qs[32h + l]; w = d · (sc & 15) · q − dmin · (sc >> 4), sc = scales[r / 16].
// Blocks start on a word. Twin of lib/q8_0.wgsl (same functions).
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 256u;
const BLOCK_BYTES: u32 = 84u;

/** The 2-bit quants of weights r..r+3 (r = k % 256, a multiple of 4) in their qs word w. */
fn q2_quants4(w: u32, r: u32) -> vec4<f32> {
  return bytes4((w >> (2u * ((r / 32u) % 4u))) & 0x03030303u);
}

/** Sub-block s's (scale, min) of 16 weights: d · (sc & 15), dmin · (sc >> 4). */
fn q2_k_scale(at: u32, s: u32) -> vec2<f32> {
  let sc = byte_at(at + s);
  return vec2(half_at(at + 80u) * f32(sc & 0xfu), half_at(at + 82u) * f32(sc >> 4u));
}

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let r = k % 256u;
  let s = q2_k_scale(at, r / 16u);
  return q2_quants4(word_at(at + 16u + 32u * (r / 128u) + r % 32u), r) * s.x - s.y;
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  // 32 weights: one h and j, l = 0..31, two scales (l < 16 and l ≥ 16)
  let r = k % 256u;
  let w = words8_at(at + 16u + 32u * (r / 128u));
  var q = vec2(0.0);
  for (var i = 0u; i < 8u; i++) { q[i / 4u] += dot(q2_quants4(w[i], r), (*x).x[i]); }
  let s0 = q2_k_scale(at, r / 16u);
  let s1 = q2_k_scale(at, r / 16u + 1u);
  return s0.x * q.x + s1.x * q.y - s0.y * (*x).sum.x - s1.y * (*x).sum.y;
}

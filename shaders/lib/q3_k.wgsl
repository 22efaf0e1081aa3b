// llama.cpp's Q3_K super-block (110 bytes, 256 weights; block_q3_K in ggml-common.h,
// dequantize_row_q3_K in ggml-quants.c): hmask[32] at byte 0, qs[64] at 32, 12 bytes of 6-bit scales
// at 96, f16 d at 108. Weight r = 128h + 32j + l: low bits 2j, 2j + 1 of qs[32h + l], high bit 4h + j
// (= r / 32) of hmask[l]; q = low − 4 where the high bit is clear. Scale s (of weights 16s..16s+15):
// the low nibble of byte s (s < 8) or high nibble of byte s − 8, with bits 2(s / 4), 2(s / 4) + 1 of
// byte 8 + s % 4 above them; w = d · (s6 − 32) · q. Blocks start on an even byte. Twin of lib/q8_0.wgsl.
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 256u;
const BLOCK_BYTES: u32 = 110u;

/** Weights r..r+3 (r = k % 256, a multiple of 4) as quants 0..7 (q + 4), from their qs and hmask words. */
fn q3_quants4(qs: u32, hm: u32, r: u32) -> vec4<f32> {
  let low = (qs >> (2u * ((r / 32u) % 4u))) & 0x03030303u;
  let high = (hm >> (r / 32u)) & 0x01010101u;
  return bytes4(low | (high << 2u));
}

/** Scale s of the super-block: d · (s6 − 32). */
fn q3_k_scale(at: u32, s: u32) -> f32 {
  let low = (byte_at(at + 96u + s % 8u) >> (4u * (s / 8u))) & 0xfu;
  let high = (byte_at(at + 104u + s % 4u) >> (2u * (s / 4u))) & 3u;
  return half_at(at + 108u) * (f32(low | (high << 4u)) - 32.0);
}

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let r = k % 256u;
  let l = r % 32u;
  return (q3_quants4(word_at(at + 32u + 32u * (r / 128u) + l), word_at(at + l), r) - 4.0) * q3_k_scale(at, r / 16u);
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  let r = k % 256u;
  let qs = words8_at(at + 32u + 32u * (r / 128u));
  let hm = words8_at(at);
  var q = vec2(0.0);
  for (var i = 0u; i < 8u; i++) { q[i / 4u] += dot(q3_quants4(qs[i], hm[i], r), (*x).x[i]); }
  q -= 4.0 * (*x).sum;
  return q3_k_scale(at, r / 16u) * q.x + q3_k_scale(at, r / 16u + 1u) * q.y;
}

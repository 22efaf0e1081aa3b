// llama.cpp's IQ4_XS super-block (136 bytes, 256 weights; block_iq4_xs in ggml-common.h,
// dequantize_row_iq4_xs in ggml-quants.c): f16 d at byte 0, u16 scales_h at byte 2, scales_l[4] at
// byte 4, 128 bytes qs at byte 8. Sub-block b (weights 32b..32b+31) has the 16 bytes at 8 + 16b (low
// nibbles weights 0..15, high 16..31, indexing IQ4_NL_VALUES) and the 6-bit scale ls = nibble b % 2 of
// scales_l[b / 2] | bits 2b, 2b + 1 of scales_h << 4; w = d · (ls − 32) · value. Twin of lib/q8_0.wgsl.
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 256u;
const BLOCK_BYTES: u32 = 136u;

/** Sub-block b's scale d · (ls − 32). */
fn iq4_xs_scale(at: u32, b: u32) -> f32 {
  let ls = ((byte_at(at + 4u + b / 2u) >> (4u * (b % 2u))) & 0xfu) | (((word_at(at) >> (16u + 2u * b)) & 3u) << 4u);
  return half_at(at) * (f32(ls) - 32.0);
}

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let r = k % 256u;
  let j = r % 32u;
  return iq4_values4(word_at(at + 8u + 16u * (r / 32u) + j % 16u), j / 16u) * iq4_xs_scale(at, r / 32u);
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  let b = (k % 256u) / 32u;
  let w = words4_at(at + 8u + 16u * b);
  var q = 0.0;
  for (var j = 0u; j < 4u; j++) { q += dot(iq4_values4(w[j], 0u), (*x).x[j]) + dot(iq4_values4(w[j], 1u), (*x).x[j + 4u]); }
  return iq4_xs_scale(at, b) * q;
}

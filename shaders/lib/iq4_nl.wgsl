// llama.cpp's IQ4_NL block (18 bytes, 32 weights; block_iq4_nl in ggml-common.h, dequantize_row_iq4_nl
// in ggml-quants.c): f16 d at byte 0, then 16 bytes qs whose low nibbles index weights 0..15's levels
// and high nibbles 16..31's in kvalues_iq4nl (IQ4_NL_VALUES, lib/ggml_blocks); w = d · value. Blocks
// start on an even byte, as q4_0's. Twin of lib/q4_0.wgsl and lib/q8_0.wgsl (same functions).
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 32u;
const BLOCK_BYTES: u32 = 18u;

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let j = k % 32u;
  return iq4_values4(word_at(at + 2u + j % 16u), j / 16u) * half_at(at);
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  let w = words4_at(at + 2u);
  var q = 0.0;
  for (var j = 0u; j < 4u; j++) { q += dot(iq4_values4(w[j], 0u), (*x).x[j]) + dot(iq4_values4(w[j], 1u), (*x).x[j + 4u]); }
  return half_at(at) * q;
}

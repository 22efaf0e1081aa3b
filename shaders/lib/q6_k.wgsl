// llama.cpp's Q6_K super-block (210 bytes, 256 weights): 128 bytes of low nibbles, 64 of high 2-bit
// pairs, 16 int8 scales (one per 16 weights), then an f16 d; w = d · sc · (q − 32). Weight r lies in
// half h = r / 128, quarter (r / 32) % 4 of it, position r % 32. Twin of lib/q8_0.wgsl.
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 256u;
const BLOCK_BYTES: u32 = 210u;

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let r = k % 256u;
  let h = r / 128u;
  let quarter = (r / 32u) % 4u;
  let l = r % 32u;
  let low = (word_at(at + 64u * h + 32u * (quarter % 2u) + l) >> (4u * (quarter / 2u))) & 0x0f0f0f0fu;
  let high = (word_at(at + 128u + 32u * h + l) >> (2u * quarter)) & 0x03030303u;
  let sc = f32(i32(byte_at(at + 192u + r / 16u) << 24u) >> 24u);
  return (bytes4(low | (high << 4u)) - 32.0) * (half_at(at + 208u) * sc);
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  // a quarter of a 128-weight half; each 16 has its own scale
  let r = k % 256u;
  let h = r / 128u;
  let quarter = (r / 32u) % 4u;
  let lo = at + 64u * h + 32u * (quarter % 2u);
  let hi = at + 128u + 32u * h;
  var q = vec2(0.0);
  for (var i = 0u; i < 8u; i++) {
    let low = (word_at(lo + 4u * i) >> (4u * (quarter / 2u))) & 0x0f0f0f0fu;
    let high = (word_at(hi + 4u * i) >> (2u * quarter)) & 0x03030303u;
    q[i / 4u] += dot(bytes4(low | (high << 4u)), (*x).x[i]);
  }
  let d = half_at(at + 208u);
  let sc = vec2<f32>(vec2<i32>(vec2(byte_at(at + 192u + r / 16u), byte_at(at + 193u + r / 16u)) << vec2(24u)) >> vec2(24u));
  return d * dot(sc, q - 32.0 * (*x).sum);
}

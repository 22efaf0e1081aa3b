// bfloat16, two per u32 word: the top half of an f32, unpacked by a shift (twin of lib/f16.wgsl).

/** The two weights of a word, low half first. */
fn unpack_pair(w: u32) -> vec2<f32> {
  return vec2(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u));
}

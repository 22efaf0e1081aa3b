// IEEE halves, two per u32 word (twin: lib/bf16.wgsl).

/** The two weights of a word, low half first. */
fn unpack_pair(w: u32) -> vec2<f32> {
  return unpack2x16float(w);
}

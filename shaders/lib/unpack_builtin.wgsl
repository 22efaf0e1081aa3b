// Four signed bytes of a word with the packed_4x8_integer_dot_product builtin (where the adapter has it).
fn unpack_bytes(w: u32) -> vec4<i32> {
  return unpack4xI8(w);
}

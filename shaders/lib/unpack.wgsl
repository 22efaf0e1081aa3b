// Four signed bytes of a word (little end first), by shifts: arithmetic right shifts sign-extend.
fn unpack_bytes(w: u32) -> vec4<i32> {
  return vec4<i32>(i32(w << 24u), i32(w << 16u), i32(w << 8u), i32(w)) >> vec4<u32>(24u);
}

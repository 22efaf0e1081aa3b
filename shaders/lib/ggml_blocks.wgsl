// llama.cpp's blocks read in place (src/ops/ggml-blocks.ts has the layouts): the packed words `qw`
// hold a GGUF tensor's bytes as they are, little end first. q4_k blocks (144 bytes) start on a word;
// q4_0 (18), q5_0 (22), q8_0 (34) and q6_k (210) blocks only on an even byte, so their words are read
// at even offsets. These are the byte readers; each block type is a library of its own (lib/q4_0.wgsl,
// lib/q5_0.wgsl, lib/q4_k.wgsl, lib/q6_k.wgsl, lib/q8_0.wgsl: the same constants and functions, aliased
// for one another). The importing shader declares `qw: array<u32>`.

/**
 * The GEMV's chunk (lib/blocks_gemv.wgsl): activations 32c .. 32c + 31 as eight vec4s, the sums of
 * their halves, and where weight 32c lies in a row (a block's byte offset, the same for every row).
 * The block types' block_dot32 takes it by pointer: one copy for the group's rows.
 */
struct Chunk32 {
  x: array<vec4<f32>, 8>,
  sum: vec2<f32>,   // Σ x over weights 0..15 and 16..31 (the offsets and mins of the block types)
  at: u32,
}

/** The little-endian u32 at even byte offset `at`. */
fn word_at(at: u32) -> u32 {
  let i = at >> 2u;
  if ((at & 2u) == 0u) { return qw[i]; }
  return (qw[i] >> 16u) | (qw[i + 1u] << 16u);
}

/**
 * The eight little-endian words from even byte offset `at`: nine aligned loads realigned by shifts
 * when `at` is 2 mod 4 (q8_0 / q4_0 blocks alternate), eight loads otherwise.
 */
fn words8_at(at: u32) -> array<u32, 8> {
  let i0 = at >> 2u;
  var out: array<u32, 8>;
  if ((at & 2u) == 0u) {
    for (var i = 0u; i < 8u; i++) { out[i] = qw[i0 + i]; }
    return out;
  }
  var prev = qw[i0];
  for (var i = 0u; i < 8u; i++) {
    let next = qw[i0 + i + 1u];
    out[i] = (prev >> 16u) | (next << 16u);
    prev = next;
  }
  return out;
}

/** The four little-endian words from even byte offset `at` (four or five aligned loads). */
fn words4_at(at: u32) -> array<u32, 4> {
  let i0 = at >> 2u;
  var out: array<u32, 4>;
  if ((at & 2u) == 0u) {
    for (var i = 0u; i < 4u; i++) { out[i] = qw[i0 + i]; }
    return out;
  }
  var prev = qw[i0];
  for (var i = 0u; i < 4u; i++) {
    let next = qw[i0 + i + 1u];
    out[i] = (prev >> 16u) | (next << 16u);
    prev = next;
  }
  return out;
}

/** The f16 at even byte offset `at`. */
fn half_at(at: u32) -> f32 {
  return unpack2x16float(qw[at >> 2u] >> ((at & 2u) * 8u)).x;
}

fn byte_at(at: u32) -> u32 {
  return (qw[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
}

/** The four bytes of a word as floats, low byte first. */
fn bytes4(w: u32) -> vec4<f32> {
  return vec4<f32>((vec4(w) >> vec4(0u, 8u, 16u, 24u)) & vec4(0xffu));
}

/** Nibble `hi` (0 low, 1 high) of each byte of a word. */
fn nibbles4(w: u32, hi: u32) -> vec4<f32> {
  return bytes4((w >> (4u * hi)) & 0x0f0f0f0fu);
}

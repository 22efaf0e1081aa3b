// llama.cpp's blocks read in place (src/ops/ggml-blocks.ts has the layouts): the packed words `qw`
// hold a GGUF tensor's bytes as they are, little end first. q4_k blocks (144 bytes) start on a word;
// so do q4_1 (20), q5_1 (24), q2_k (84), q5_k (176) and iq4_xs (136); q4_0 (18), q5_0 (22), q8_0 (34),
// iq4_nl (18), q3_k (110) and q6_k (210) blocks only on an even byte, so their words are read at even
// offsets. These are the byte readers; each block type is a library of its own (lib/q4_0.wgsl,
// lib/q5_0.wgsl, lib/q4_k.wgsl, lib/q6_k.wgsl, lib/q8_0.wgsl and their twins: the same constants and
// functions, aliased for one another). The importing shader declares `qw: array<u32>`.

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

/**
 * Sub-block j's affine map (d · scale, dmin · min) of a q4_k / q5_k super-block at word-aligned `at`:
 * f16 d and dmin, then 12 bytes of 6-bit scales and mins as get_scale_min_k4 (ggml-quants.c) reads them.
 */
fn scale_min_k4(at: u32, j: u32) -> vec2<f32> {
  let dm = unpack2x16float(qw[at / 4u]);
  var sc: u32;
  var m: u32;
  if (j < 4u) {
    sc = byte_at(at + 4u + j) & 63u;
    m = byte_at(at + 8u + j) & 63u;
  } else {
    let b = byte_at(at + 8u + j);
    sc = (b & 0xfu) | ((byte_at(at + j) >> 6u) << 4u);
    m = (b >> 4u) | ((byte_at(at + 4u + j) >> 6u) << 4u);
  }
  return vec2(dm.x * f32(sc), dm.y * f32(m));
}

/** Bits 0..3 of h as 0 or 16: the fifth bits of four weights (q5_0, q5_1: weight i's is bit i of qh). */
fn high4_16(h: u32) -> vec4<f32> {
  return vec4<f32>(((vec4(h) >> vec4(0u, 1u, 2u, 3u)) & vec4(1u)) * 16u);
}

/**
 * Σ q·x over a 32-weight block of 5-bit quants (q5_0, q5_1): the 16 bytes at `qs_at` (word j holds
 * weights 4j..4j+3 in its low nibbles and 16+4j.. in its high ones) and their fifth bits in qh.
 */
fn quants5_dot32(qs_at: u32, qh: u32, x: ptr<function, Chunk32>) -> f32 {
  let w = words4_at(qs_at);
  var q = 0.0;
  for (var j = 0u; j < 4u; j++) {
    q += dot(nibbles4(w[j], 0u) + high4_16(qh >> (4u * j)), (*x).x[j]);
    q += dot(nibbles4(w[j], 1u) + high4_16(qh >> (16u + 4u * j)), (*x).x[j + 4u]);
  }
  return q;
}

/** The sixteen levels of IQ4_NL and IQ4_XS (kvalues_iq4nl in ggml-common.h). */
var<private> IQ4_NL_VALUES: array<f32, 16> = array<f32, 16>(-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0, 1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);

/** Nibble `hi` of each byte of a word, mapped through IQ4_NL_VALUES. */
fn iq4_values4(w: u32, hi: u32) -> vec4<f32> {
  let n = (vec4(w >> (4u * hi)) >> vec4(0u, 8u, 16u, 24u)) & vec4(0xfu);
  return vec4(IQ4_NL_VALUES[n.x], IQ4_NL_VALUES[n.y], IQ4_NL_VALUES[n.z], IQ4_NL_VALUES[n.w]);
}

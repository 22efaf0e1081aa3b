// llama.cpp's blocks read in place (src/ops/ggml-blocks.ts has the layouts): the packed words `qw`
// hold a GGUF tensor's bytes as they are, little end first. q4_k blocks (144 bytes) start on a word;
// q4_0 (18), q8_0 (34) and q6_k (210) blocks only on an even byte, so their words are read at even
// offsets. The importing shader declares `qw: array<u32>` and `override SCHEME` (4 q4_0, 5 q4_k,
// 6 q6_k, 7 q8_0).
//#import lib/unpack

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

fn block_bytes() -> u32 {
  if (SCHEME == 7u) { return 34u; }
  return select(select(210u, 144u, SCHEME == 5u), 18u, SCHEME == 4u);
}

fn block_len() -> u32 {
  return select(256u, 32u, SCHEME == 4u || SCHEME == 7u);
}

/** The padded row length in weights for `row_blocks` blocks per row. */
fn block_row_len(row_blocks: u32) -> u32 {
  return row_blocks * block_len();
}

/**
 * The affine map of the sub-block holding weight k of row `row`: w = s.x · q − s.y, for the q of
 * block_quants4. A sub-block is 32 weights (q4_0, q4_k) or 16 (q6_k).
 */
fn block_scale(row: u32, row_blocks: u32, k: u32) -> vec2<f32> {
  let at = (row * row_blocks + k / block_len()) * block_bytes();
  if (SCHEME == 4u || SCHEME == 7u) { return vec2(half_at(at), 0.0); }
  if (SCHEME == 6u) {
    let sc = f32(i32(byte_at(at + 192u + (k % 256u) / 16u) << 24u) >> 24u);
    return vec2(half_at(at + 208u) * sc, 0.0);
  }
  // q4_k: get_scale_min_k4 for sub-block j of the 12 scale bytes at + 4 ..
  let dm = unpack2x16float(qw[at / 4u]);
  let j = (k % 256u) / 32u;
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

/** Quants k..k+3 (k a multiple of 4) of row `row`, offset removed for q4_0 (q − 8) and q6_k (q − 32). */
fn block_quants4(row: u32, row_blocks: u32, k: u32) -> vec4<f32> {
  let at = (row * row_blocks + k / block_len()) * block_bytes();
  if (SCHEME == 4u) {
    let j = k % 32u;
    return nibbles4(word_at(at + 2u + j % 16u), j / 16u) - 8.0;
  }
  if (SCHEME == 7u) { return vec4<f32>(unpack_bytes(word_at(at + 2u + k % 32u))); }
  let r = k % 256u;
  if (SCHEME == 5u) { return nibbles4(qw[(at + 16u + 32u * (r / 64u) + r % 32u) / 4u], (r / 32u) % 2u); }
  // q6_k: half h of 128 weights, quarter of 32 in it, position l in the quarter
  let h = r / 128u;
  let quarter = (r / 32u) % 4u;
  let l = r % 32u;
  let low = (word_at(at + 64u * h + 32u * (quarter % 2u) + l) >> (4u * (quarter / 2u))) & 0x0f0f0f0fu;
  let high = (word_at(at + 128u + 32u * h + l) >> (2u * quarter)) & 0x03030303u;
  return bytes4(low | (high << 4u)) - 32.0;
}

/** Weights k..k+3 of row `row`, dequantised. */
fn block_weights4(row: u32, row_blocks: u32, k: u32) -> vec4<f32> {
  let s = block_scale(row, row_blocks, k);
  return block_quants4(row, row_blocks, k) * s.x - s.y;
}

/**
 * Σ w·x over the 32 weights k..k+31 (k a multiple of 32) of row `row`, against activations x (eight
 * vec4s) whose two halves sum to xsum: the GEMV's inner step. The block is located once and its
 * scales decoded once (twice for q6_k's 16-weight sub-blocks); the quants are dotted unscaled and
 * the affine map applied to the sums: Σ (s·q − m)·x = s·Σ q·x − m·Σ x.
 */
fn block_dot32(row: u32, row_blocks: u32, k: u32, x: array<vec4<f32>, 8>, xsum: vec2<f32>) -> f32 {
  let at = (row * row_blocks + k / block_len()) * block_bytes();
  if (SCHEME == 4u) {
    // q4_0: word j holds weights 4j..4j+3 (low nibbles) and 16+4j.. (high)
    let w = words4_at(at + 2u);
    var q = 0.0;
    for (var j = 0u; j < 4u; j++) { q += dot(nibbles4(w[j], 0u), x[j]) + dot(nibbles4(w[j], 1u), x[j + 4u]); }
    return half_at(at) * (q - 8.0 * (xsum.x + xsum.y));
  }
  if (SCHEME == 7u) {
    // q8_0: 32 signed bytes after the scale
    let w = words8_at(at + 2u);
    var q = 0.0;
    for (var i = 0u; i < 8u; i++) { q += dot(vec4<f32>(unpack_bytes(w[i])), x[i]); }
    return half_at(at) * q;
  }
  if (SCHEME == 5u) {
    // q4_k: sub-block j's 32 quants are nibble j % 2 of the 32 bytes at 16 + 32 (j / 2)
    let s = block_scale(row, row_blocks, k);
    let j = (k % 256u) / 32u;
    let w0 = (at + 16u + 32u * (j / 2u)) / 4u;
    var q = 0.0;
    for (var i = 0u; i < 8u; i++) { q += dot(nibbles4(qw[w0 + i], j % 2u), x[i]); }
    return s.x * q - s.y * (xsum.x + xsum.y);
  }
  // q6_k: a quarter of a 128-weight half; each 16 has its own scale
  let r = k % 256u;
  let h = r / 128u;
  let quarter = (r / 32u) % 4u;
  let lo = at + 64u * h + 32u * (quarter % 2u);
  let hi = at + 128u + 32u * h;
  var q = vec2(0.0);
  for (var i = 0u; i < 8u; i++) {
    let low = (word_at(lo + 4u * i) >> (4u * (quarter / 2u))) & 0x0f0f0f0fu;
    let high = (word_at(hi + 4u * i) >> (2u * quarter)) & 0x03030303u;
    q[i / 4u] += dot(bytes4(low | (high << 4u)), x[i]);
  }
  let d = half_at(at + 208u);
  let sc = vec2<f32>(vec2<i32>(vec2(byte_at(at + 192u + r / 16u), byte_at(at + 193u + r / 16u)) << vec2(24u)) >> vec2(24u));
  return d * dot(sc, q - 32.0 * xsum);
}

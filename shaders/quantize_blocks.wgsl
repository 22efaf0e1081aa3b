// The 16-bit and llama.cpp block quantizers on the GPU, with the CPU's rules (src/ops/ggml-blocks.ts,
// src/gpu/tensor.ts): every step in f32, halves rounded to nearest even by integer arithmetic (so no
// result depends on how an adapter's pack2x16float rounds). W is read as [K, N] (KN) or [N, K] (NK);
// rows past K read zeros.
//   pack_half  SCHEME 2 f16, 3 bf16: one thread per output word, two weights
//   pack_pair  SCHEME 7 q8_0, 4 q4_0, 8 q5_0: one thread per two blocks (34, 18 or 22 bytes each: 17,
//              9 or 11 whole words, so no word is shared)
//   pack_q4_k  one thread per 144-byte super-block (36 words)
// Bindings: 0 params, 1 w, 2 qw (the output words).
//#import lib/index
//#import lib/consts

override WG: u32 = 64;
override SCHEME: u32 = 2;

struct Params {
  K: u32,
  N: u32,
  row_words: u32,    // pack_half: words per output row
  row_blocks: u32,   // block schemes: blocks per output row
  kn: u32,           // 1: W is [K, N]; 0: W is [N, K]
  count: u32,        // threads with work: words, block pairs or super-blocks
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> qw: array<u32>;

fn weight(n: u32, k: u32) -> f32 {
  if (k >= params.K) { return 0.0; }
  if (params.kn == 1u) { return w[k * params.N + n]; }
  return w[n * params.K + k];
}

/** IEEE half bits of x, rounded to nearest even (f32ToF16 in src/gpu/tensor.ts, step for step). */
fn f16_bits(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  let e = (b >> 23u) & 0xffu;
  let m = b & 0x7fffffu;
  if (e == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u, m != 0u); }
  let half = i32(e) - 127 + 15;
  if (half >= 31) { return sign | 0x7c00u; }
  if (half <= 0) {
    if (half < -10) { return sign; }
    let mm = m | 0x800000u;
    let shift = u32(14 - half);
    var v = mm >> shift;
    let rest = mm & ((1u << shift) - 1u);
    let mid = 1u << (shift - 1u);
    if (rest > mid || (rest == mid && (v & 1u) == 1u)) { v += 1u; }
    return sign | v;
  }
  var v = (u32(half) << 10u) | (m >> 13u);
  let rest = m & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (v & 1u) == 1u)) { v += 1u; }
  return sign | v;
}

/** bfloat16 bits of x, rounded to nearest even; NaN stays a quiet NaN. */
fn bf16_bits(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return ((b >> 16u) | 0x40u) & 0xffffu; }
  return ((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u) & 0xffffu;
}

/** The f32 a half's bits stand for. */
fn f16_value(h: u32) -> f32 {
  return unpack2x16float(h).x;
}

/** Round half away from zero (the CPU's `nearest`). */
fn nearest(x: f32) -> f32 {
  return sign(x) * floor(abs(x) + 0.5);
}

fn thread(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return flat_group(wid, nwg) * WG + lid;
}

// A block's bytes are assembled in registers, then stored as whole words.
var<private> out_words: array<u32, 36>;

fn put_byte(at: u32, v: u32) {
  out_words[at / 4u] |= (v & 0xffu) << (8u * (at % 4u));
}

fn put_half(at: u32, h: u32) {
  put_byte(at, h);
  put_byte(at + 1u, h >> 8u);
}

@compute @workgroup_size(WG)
fn pack_half(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = thread(wid, nwg, lid);
  if (i >= params.count) { return; }
  let n = i / params.row_words;
  let k = 2u * (i % params.row_words);
  let a = weight(n, k);
  let b = weight(n, k + 1u);
  if (SCHEME == 3u) { qw[i] = bf16_bits(a) | (bf16_bits(b) << 16u); }
  else { qw[i] = f16_bits(a) | (f16_bits(b) << 16u); }
}

/** q8_0 block `blk` at byte `at` of out_words: d = max|x| / 127, q = round(x / d) (half away from zero). */
fn q8_0_block(blk: u32, at: u32) {
  let n = blk / params.row_blocks;
  let k0 = (blk % params.row_blocks) * 32u;
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) { amax = max(amax, abs(weight(n, k0 + j))); }
  let d = amax / 127.0;
  let id = select(0.0, 1.0 / d, d != 0.0);
  put_half(at, f16_bits(d));
  for (var j = 0u; j < 32u; j++) {
    put_byte(at + 2u + j, u32(i32(clamp(nearest(weight(n, k0 + j) * id), -127.0, 127.0))));
  }
}

/** q4_0 block `blk` (row n, block kb of it) at byte `at` of out_words: d = max / -8, q = min(15, trunc(x / d + 8.5)). */
fn q4_0_block(blk: u32, at: u32) {
  let n = blk / params.row_blocks;
  let k0 = (blk % params.row_blocks) * 32u;
  var mx = 0.0;
  for (var j = 0u; j < 32u; j++) {
    let x = weight(n, k0 + j);
    if (abs(x) > abs(mx)) { mx = x; }
  }
  let d = mx / -8.0;
  let id = select(0.0, 1.0 / d, d != 0.0);
  put_half(at, f16_bits(d));
  for (var j = 0u; j < 16u; j++) {
    let lo = min(15u, u32(trunc(weight(n, k0 + j) * id + 8.5)));
    let hi = min(15u, u32(trunc(weight(n, k0 + j + 16u) * id + 8.5)));
    put_byte(at + 2u + j, lo | (hi << 4u));
  }
}

/**
 * q5_0 block `blk` at byte `at` of out_words (quantize_row_q5_0_ref): d = max / -16, q = min(31,
 * trunc(x / d + 16.5)); low nibbles at 6 + j (weights j, j + 16), fifth bits in the u32 qh at 2.
 */
fn q5_0_block(blk: u32, at: u32) {
  let n = blk / params.row_blocks;
  let k0 = (blk % params.row_blocks) * 32u;
  var mx = 0.0;
  for (var j = 0u; j < 32u; j++) {
    let x = weight(n, k0 + j);
    if (abs(x) > abs(mx)) { mx = x; }
  }
  let d = mx / -16.0;
  let id = select(0.0, 1.0 / d, d != 0.0);
  put_half(at, f16_bits(d));
  var qh = 0u;
  for (var j = 0u; j < 16u; j++) {
    let lo = min(31u, u32(trunc(weight(n, k0 + j) * id + 16.5)));
    let hi = min(31u, u32(trunc(weight(n, k0 + j + 16u) * id + 16.5)));
    put_byte(at + 6u + j, (lo & 0xfu) | ((hi & 0xfu) << 4u));
    qh |= ((lo >> 4u) << j) | ((hi >> 4u) << (j + 16u));
  }
  for (var i = 0u; i < 4u; i++) { put_byte(at + 2u + i, qh >> (8u * i)); }
}

/** SCHEME's block `blk` at byte `at` of out_words (7 q8_0, 4 q4_0, 8 q5_0: the paired schemes). */
fn pair_block(blk: u32, at: u32) {
  if (SCHEME == 7u) { q8_0_block(blk, at); }
  else if (SCHEME == 4u) { q4_0_block(blk, at); }
  else { q5_0_block(blk, at); }
}

/** Two blocks of SCHEME a thread (34, 18 or 22 bytes each: 17, 9 or 11 whole words, none shared). */
@compute @workgroup_size(WG)
fn pack_pair(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let p = thread(wid, nwg, lid);
  if (p >= params.count) { return; }
  let bytes = select(select(22u, 18u, SCHEME == 4u), 34u, SCHEME == 7u);
  let pair_words = bytes / 2u;
  for (var i = 0u; i < pair_words; i++) { out_words[i] = 0u; }
  let blocks = params.N * params.row_blocks;
  pair_block(2u * p, 0u);
  if (2u * p + 1u < blocks) { pair_block(2u * p + 1u, bytes); }
  let words = (blocks * bytes + 3u) / 4u;
  for (var i = 0u; i < pair_words; i++) {
    if (pair_words * p + i < words) { qw[pair_words * p + i] = out_words[i]; }
  }
}

/**
 * q4_k super-block `blk`: per 32 weights scale (range / 15) and min (−min(0, lo)); d and dmin the
 * largest of each / 63 as halves; 6-bit sub-block scales and mins rounded against them; then each
 * weight's nibble rounded against its sub-block's step and min (encodeBlock's rules).
 */
@compute @workgroup_size(WG)
fn pack_q4_k(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let blk = thread(wid, nwg, lid);
  if (blk >= params.count) { return; }
  for (var i = 0u; i < 36u; i++) { out_words[i] = 0u; }
  let n = blk / params.row_blocks;
  let k0 = (blk % params.row_blocks) * 256u;
  var scale: array<f32, 8>;
  var mins: array<f32, 8>;
  var max_scale = 0.0;
  var max_min = 0.0;
  for (var j = 0u; j < 8u; j++) {
    var lo = 0.0;
    var hi = -F32_MAX;
    for (var l = 0u; l < 32u; l++) {
      let x = weight(n, k0 + 32u * j + l);
      lo = min(lo, x);
      hi = max(hi, x);
    }
    scale[j] = (hi - lo) / 15.0;
    mins[j] = -lo;
    max_scale = max(max_scale, scale[j]);
    max_min = max(max_min, mins[j]);
  }
  let dh = f16_bits(max_scale / 63.0);
  let mh = f16_bits(max_min / 63.0);
  put_half(0u, dh);
  put_half(2u, mh);
  let d = f16_value(dh);
  let dmin = f16_value(mh);
  var sc: array<u32, 8>;
  var m: array<u32, 8>;
  for (var j = 0u; j < 8u; j++) {
    sc[j] = select(0u, u32(clamp(nearest(scale[j] / d), 0.0, 63.0)), d > 0.0);
    m[j] = select(0u, u32(clamp(nearest(mins[j] / dmin), 0.0, 63.0)), dmin > 0.0);
  }
  for (var j = 0u; j < 4u; j++) {
    put_byte(4u + j, sc[j] | ((sc[j + 4u] >> 4u) << 6u));
    put_byte(8u + j, m[j] | ((m[j + 4u] >> 4u) << 6u));
    put_byte(12u + j, (sc[j + 4u] & 0xfu) | ((m[j + 4u] & 0xfu) << 4u));
  }
  for (var j = 0u; j < 4u; j++) {
    for (var l = 0u; l < 32u; l++) {
      var q: array<u32, 2>;
      for (var h = 0u; h < 2u; h++) {
        let s = 2u * j + h;
        let step = d * f32(sc[s]);
        let x = weight(n, k0 + 64u * j + 32u * h + l);
        q[h] = select(0u, u32(clamp(nearest((x + dmin * f32(m[s])) / step), 0.0, 15.0)), step > 0.0);
      }
      put_byte(16u + 32u * j + l, q[0] | (q[1] << 4u));
    }
  }
  for (var i = 0u; i < 36u; i++) { qw[36u * blk + i] = out_words[i]; }
}


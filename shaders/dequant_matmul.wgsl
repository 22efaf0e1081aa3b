// Matmul against int8 weights, dequantised in registers (never to an f32 copy in memory):
//   out = act(a · dequant(W)ᵀ + bias) + residual,  a [M, K], W stored as [N, Kp] int8
// Weights are int8 packed four to a u32 along K (rows zero-padded to Kp) with one f32 scale per output
// channel (SCHEME 1): W[n, k] = int8(qw[n, k / 4] >> 8 * (k % 4)) * scale[n]; or two 16-bit floats
// per word (SCHEME 2 f16, 3 bf16); or llama.cpp's blocks as a GGUF file holds them (SCHEME 4 q4_0,
// 5 q4_k, 6 q6_k, 7 q8_0; lib/ggml_blocks.wgsl).
// Entry points:
//   gemv        per-channel int8, M == 1, K % 4 == 0: groups of TPR threads (lib/lanes*.wgsl), NR
//               outputs per group, each thread loading a vec4<u32> (16 weights) at a time
//   gemv_half   the same for f16 / bf16: eight weights per vec4<u32>
//   gemv_block  the same for the block schemes: a thread takes 32 weights (one q4_0 block, a q4_k
//               sub-block, two q6_k sub-blocks), their scales decoded once
//   gemm        any M, K: the tiled kernel of lib/tile.wgsl, dequantising B's slice as it is staged
// Bindings: 0 params, 1 a (the activations), 2 qw, 3 scales, 4 bias, 5 residual, 6 out.
// lib/unpack gives the int8 unpacking (shifts, or the pack4x8 builtins where the adapter has them).
//#import lib/index
//#import lib/tile
//#import lib/unpack
//#import lib/lanes
//#import lib/epilogue
//#import lib/ggml_blocks

override SCHEME: u32 = 1;   // 1: per-channel int8, 2: f16, 3: bf16 (two per word, no scales), 4..7 blocks

struct Params {
  M: u32,
  N: u32,
  K: u32,
  row_words: u32,   // u32 words per weight row (Kp / 4; Kp / 2 for 16-bit weights)
  n_blocks: u32,    // scales per weight row (1 for SCHEME 1); blocks per row for 4..7
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> qw: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> qw4: array<vec4<u32>>;

/** Four signed bytes of a word, as floats (arithmetic shifts sign-extend). */
fn unpack_i8(w: u32) -> vec4<f32> {
  return vec4<f32>(unpack_bytes(w));
}

/** The two 16-bit weights of a word, low half first: IEEE halves, or bfloat16 (the top of an f32). */
fn unpack_pair(w: u32) -> vec2<f32> {
  if (SCHEME == 3u) { return vec2(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }
  return unpack2x16float(w);
}

fn scale_at(n: u32) -> f32 {
  return scales[n];
}

/** Weights k..k+3 (k a multiple of 4) of row n, dequantised. */
fn weights4(n: u32, k: u32) -> vec4<f32> {
  if (SCHEME >= 4u) { return block_weights4(n, params.n_blocks, k); }
  if (SCHEME >= 2u) {
    let w = n * params.row_words + k / 2u;
    return vec4(unpack_pair(qw[w]), unpack_pair(qw[w + 1u]));
  }
  return unpack_i8(qw[n * params.row_words + k / 4u]) * scale_at(n);
}

/** Weights per packed row, K rounded up to the packing (zero weights past K). */
fn row_len() -> u32 {
  if (SCHEME >= 4u) { return block_row_len(params.n_blocks); }
  return params.row_words * select(4u, 2u, SCHEME >= 2u);
}

fn finish(n: u32, row: u32, v: f32) -> f32 {
  return epilogue(v, n, row * params.N + n);
}

override TPR: u32 = 8;   // gemv: threads per dot product (a power of two ≤ 32), see lib/lanes*.wgsl
override NR: u32 = 2;    // gemv: outputs per group of TPR threads (1..4)

/** Lane 0 of a GEMV group writes its NR outputs n0, n0 + 1, ... (those below N) with the epilogue. */
fn store_rows(n0: u32, s: vec4<f32>) {
  for (var r = 0u; r < NR; r++) {
    let n = n0 + r;
    if (n >= params.N) { break; }
    if (ACT == 2u) {   // SwiGLU: NR is even, (n, n + 1) a (gate, up) pair
      if (r % 2u == 0u) { out[n / 2u] = glu(s[r], s[r + 1u], n); }
    } else {
      out[n] = finish(n, 0u, s[r]);
    }
  }
}

/**
 * A group of TPR threads computes NR outputs (component r of its accumulator is output n0 + r). Each
 * lane takes every TPR-th chunk of 16 weights: four activation vec4s, loaded once for the NR rows, then
 * one vec4<u32> of packed weights and one scale per row.
 */
@compute @workgroup_size(256, 1, 1)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  let K4 = params.K / 4u;
  let g = lane_of(ids);
  let n0 = (flat_group(wid, nwg) * (256u / TPR) + g.x) * NR;
  var acc = vec4(0.0);
  for (var c = g.y; c * 4u < K4; c += TPR) {   // c: a chunk of 16 weights
    let k4 = c * 4u;
    var x: array<vec4<f32>, 4>;
    for (var j = 0u; j < 4u; j++) {
      // Past K (rows are zero-padded to Kp) the activation must be 0, not whatever lies beyond x.
      x[j] = select(vec4(0.0), a4[min(k4 + j, K4 - 1u)], k4 + j < K4);
    }
    for (var r = 0u; r < NR; r++) {
      let n = min(n0 + r, params.N - 1u);   // rows past N compute a copy of the last, never stored
      let w = qw4[n * params.row_words / 4u + c];
      let p = dot(unpack_i8(w.x), x[0]) + dot(unpack_i8(w.y), x[1]) + dot(unpack_i8(w.z), x[2]) + dot(unpack_i8(w.w), x[3]);
      acc[r] = fma(p, scale_at(n), acc[r]);
    }
  }
  let s = lane_sum(acc, ids);
  if (g.y == 0u) { store_rows(n0, s); }
}

/**
 * f16 and bf16 weights: as `gemv`, with a lane's chunk one vec4<u32> of eight 16-bit weights (rows
 * padded to 8) against two activation vec4s. unpack2x16float is core WGSL and bf16 is a shift: no
 * shader-f16 needed; the sums are f32.
 */
@compute @workgroup_size(256, 1, 1)
fn gemv_half(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  let K4 = params.K / 4u;
  let g = lane_of(ids);
  let n0 = (flat_group(wid, nwg) * (256u / TPR) + g.x) * NR;
  var acc = vec4(0.0);
  for (var c = g.y; c * 2u < K4; c += TPR) {   // c: a chunk of 8 weights
    let k4 = c * 2u;
    let x0 = a4[k4];
    let x1 = select(vec4(0.0), a4[min(k4 + 1u, K4 - 1u)], k4 + 1u < K4);
    for (var r = 0u; r < NR; r++) {
      let n = min(n0 + r, params.N - 1u);
      let w = qw4[n * params.row_words / 4u + c];
      acc[r] += dot(vec4(unpack_pair(w.x), unpack_pair(w.y)), x0) + dot(vec4(unpack_pair(w.z), unpack_pair(w.w)), x1);
    }
  }
  let s = lane_sum(acc, ids);
  if (g.y == 0u) { store_rows(n0, s); }
}

/**
 * The block schemes: a lane's chunk is 32 weights against eight activation vec4s (loaded once for the
 * NR rows), dotted by lib/ggml_blocks.wgsl's block_dot32 (scales decoded once per chunk).
 */
@compute @workgroup_size(256, 1, 1)
fn gemv_block(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  let K4 = params.K / 4u;
  let g = lane_of(ids);
  let n0 = (flat_group(wid, nwg) * (256u / TPR) + g.x) * NR;
  var acc = vec4(0.0);
  for (var c = g.y; c * 8u < K4; c += TPR) {   // c: a chunk of 32 weights
    var x: array<vec4<f32>, 8>;
    for (var j = 0u; j < 8u; j++) {
      let k4 = c * 8u + j;
      x[j] = select(vec4(0.0), a4[min(k4, K4 - 1u)], k4 < K4);
    }
    let xsum = vec2(dot(x[0] + x[1] + x[2] + x[3], vec4(1.0)), dot(x[4] + x[5] + x[6] + x[7], vec4(1.0)));
    for (var r = 0u; r < NR; r++) {
      acc[r] += block_dot32(min(n0 + r, params.N - 1u), params.n_blocks, c * 32u, x, xsum);
    }
  }
  let s = lane_sum(acc, ids);
  if (g.y == 0u) { store_rows(n0, s); }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;
  var acc: array<vec4<f32>, 4>;
  let threads = WG_X * WG_Y;
  for (var k0 = 0u; k0 < K; k0 += TILE_K) {
    stage_a(0u, row0, k0, M, K, tid);
    // B slice: one packed word (4 weights along K) per step, dequantised into workgroup memory.
    for (var i = tid; i < TILE_N * TILE_K / 4u; i += threads) {
      let n = i / (TILE_K / 4u);
      let k = (i % (TILE_K / 4u)) * 4u;
      var v = vec4(0.0);
      // Packed rows hold row_len() weights, zero (or multiplied by a zero activation) past K.
      if (col0 + n < N && k0 + k < row_len()) { v = weights4(col0 + n, k0 + k); }
      for (var j = 0u; j < 4u; j++) { store_b(k + j, n, v[j]); }
    }
    workgroupBarrier();
    accumulate(&acc, lid.x, lid.y);
    workgroupBarrier();
  }
  let col = col0 + lid.x * 4u;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    if (row >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col + j >= N) { break; }
      if (ACT != 2u) { out[row * N + col + j] = finish(col + j, row, acc[i][j]); }
      else if (j % 2u == 0u) { out[(row * N + col + j) / 2u] = glu(acc[i][j], acc[i][j + 1u], col + j); }   // SwiGLU pairs
    }
  }
}

// Matmul against int8 weights, dequantised in registers (never to an f32 copy in memory):
//   out = act(a · dequant(W)ᵀ + bias) + residual,  a [M, K], W stored as [N, Kp] int8
// Weights are packed four to a u32 along K (rows zero-padded to Kp), with one f32 scale per 32
// weights along K (SCHEME 0, llama.cpp's Q8_0) or one per output channel (SCHEME 1):
//   W[n, k] = int8(qw[n, k / 4] >> 8 * (k % 4)) * scale
// Entry points:
//   gemv  M == 1, K % 4 == 0: 256 / TPR outputs per workgroup, TPR threads per dot product, each
//         loading a vec4<u32> (16 weights) at a time
//   gemm  any M, K: the tiled kernel of lib/tile.wgsl, dequantising B's slice as it is staged
// Bindings: 0 params, 1 a (the activations), 2 qw, 3 scales, 4 bias, 5 residual, 6 out. Needs lib/tile.wgsl.

override SCHEME: u32 = 0;
override HAS_BIAS: bool = false;
override ACT: u32 = 0;
override HAS_RESIDUAL: bool = false;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  row_words: u32,   // u32 words per weight row (Kp / 4)
  n_blocks: u32,    // scales per weight row (Kp / 32 for SCHEME 0, 1 for SCHEME 1)
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

var<workgroup> red4: array<f32, 256>;

/** Four signed bytes of a word, as floats (arithmetic shifts sign-extend). */
fn unpack_i8(w: u32) -> vec4<f32> {
  return vec4<f32>(unpack_bytes(w));
}

fn scale_at(n: u32, k: u32) -> f32 {
  if (SCHEME == 0u) { return scales[n * params.n_blocks + k / 32u]; }
  return scales[n];
}

fn finish(n: u32, row: u32, v: f32) -> f32 {
  var r = v;
  if (HAS_BIAS) { r += bias[n]; }
  if (ACT == 1u) { r = gelu(vec4(r)).x; }
  if (HAS_RESIDUAL) { r += residual[row * params.N + n]; }
  return r;
}

override TPR: u32 = 8;              // gemv: threads per output (a power of two ≤ 32)
override ROWS: u32 = 256u / TPR;     // gemv: outputs per workgroup (derived; not meant to be set)

@compute @workgroup_size(TPR, ROWS, 1)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = (wid.y * nwg.x + wid.x) * ROWS + lid.y;
  let K4 = params.K / 4u;
  var acc = 0.0;
  if (n < params.N) {
    let row4 = n * params.row_words / 4u;
    for (var c = lid.x; c * 4u < K4; c += TPR) {   // c: a chunk of 16 weights
      let w = qw4[row4 + c];
      let k4 = c * 4u;
      var part = 0.0;
      for (var j = 0u; j < 4u; j++) {
        if (k4 + j < K4) { part += dot(unpack_i8(w[j]), a4[k4 + j]); }
      }
      acc = fma(part, scale_at(n, c * 16u), acc);
    }
  }
  red4[tid] = acc;
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red4[tid] += red4[tid + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u && n < params.N) { out[n] = finish(n, 0u, red4[tid]); }
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
      if (col0 + n < N && (k0 + k) / 4u < params.row_words) {
        v = unpack_i8(qw[(col0 + n) * params.row_words + (k0 + k) / 4u]) * scale_at(col0 + n, k0 + k);
      }
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
      if (col + j < N) { out[row * N + col + j] = finish(col + j, row, acc[i][j]); }
    }
  }
}

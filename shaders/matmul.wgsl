// Tiled matmul with a fused epilogue.
//   out[b] = act(A[b] · B[b] + bias) + residual[b]
// A is [M, K]; B is [K, N], or [N, K] when TRANS_B (weights stored transposed, as nn.Linear does).
// Each workgroup computes a TILE_M × TILE_N tile of out, staging TILE_K-deep slices of A and B in
// workgroup memory; each thread accumulates a 4×4 register block (4 rows × one vec4 of columns).
// Entry points:
//   main      any M, K, N: scalar loads with bounds checks on every edge
//   main_vec4 K % 4 == 0 and N % 4 == 0: vec4 loads and stores
//   gemv      M == 1 (decode), N % 4 == 0, B [K, N]: 256 / TPR vec4 columns per workgroup, K split
//             over the TPR threads of a group
//   gemv_n1   M == 1, any N (N % 4 != 0), B [K, N]: as gemv, four adjacent columns per group, scalar loads
//   gemv_t    M == 1, K % 4 == 0, B [N, K]: 256 / TPR × NR outputs per workgroup, TPR threads per group
// Bindings (same numbers in both entries): 0 params, 1 A, 2 B, 3 bias [N], 4 residual (shape of out),
// 5 out. Unused optional bindings (HAS_BIAS / HAS_RESIDUAL false) are bound to a dummy buffer.
// lib/tile: tile sizes, staged slices, the 4×4 register-block multiply; lib/lanes: the GEMVs' groups
// of threads; lib/epilogue_vec4: bias, activation and residual. The SwiGLU epilogue (ACT 2, output
// half as wide) is in main and gemv_t only: the vec4 entries write whole vec4s of the full width.
//#import lib/index
//#import lib/tile
//#import lib/lanes
//#import lib/epilogue_vec4

override TRANS_B: bool = false;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch_stride_a: u32,   // elements between batches of A (0: A shared by every batch)
  batch_stride_b: u32,   // elements between batches of B (0: weights shared by every batch)
}

@group(0) @binding(0) var<uniform> params: Params;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> residual4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;
  let a_off = wid.z * params.batch_stride_a;
  let b_off = wid.z * params.batch_stride_b;
  let c_off = wid.z * M * N;
  var acc: array<vec4<f32>, 4>;
  let threads = WG_X * WG_Y;
  for (var k0 = 0u; k0 < K; k0 += TILE_K) {
    stage_a(a_off, row0, k0, M, K, tid);
    for (var i = tid; i < TILE_N * TILE_K; i += threads) {
      var n: u32;
      var k: u32;
      var idx: u32;
      if (TRANS_B) { n = i / TILE_K; k = i % TILE_K; idx = (col0 + n) * K + k0 + k; }
      else { k = i / TILE_N; n = i % TILE_N; idx = (k0 + k) * N + col0 + n; }
      var v = 0.0;
      if (col0 + n < N && k0 + k < K) { v = b[b_off + idx]; }
      store_b(k, n, v);
    }
    workgroupBarrier();
    accumulate(&acc, lid.x, lid.y);
    workgroupBarrier();
  }
  let col = col0 + lid.x * 4u;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    if (row >= M) { break; }
    if (ACT == 2u) {   // SwiGLU pairs (col is even): two outputs at half the width
      for (var j = 0u; j < 4u; j += 2u) {
        if (col + j < N) { out[(c_off + row * N + col + j) / 2u] = glu(acc[i][j], acc[i][j + 1u], col + j); }
      }
      continue;
    }
    for (var j = 0u; j < 4u; j++) {
      if (col + j < N) {
        let o = c_off + row * N + col + j;
        out[o] = epilogue(acc[i][j], col + j, o);
      }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
             @builtin(local_invocation_index) tid: u32) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;
  let a_off = wid.z * params.batch_stride_a / 4u;
  let b_off = wid.z * params.batch_stride_b / 4u;
  let c_off = wid.z * M * N / 4u;
  var acc: array<vec4<f32>, 4>;
  let threads = WG_X * WG_Y;
  for (var k0 = 0u; k0 < K; k0 += TILE_K) {
    // A slice: TILE_M rows × TILE_K / 4 vec4 along K, transposed into As.
    for (var i = tid; i < TILE_M * TILE_K / 4u; i += threads) {
      let m = i / (TILE_K / 4u);
      let k = (i % (TILE_K / 4u)) * 4u;
      var v = vec4(0.0);
      if (row0 + m < M && k0 + k < K) { v = a4[a_off + ((row0 + m) * K + k0 + k) / 4u]; }
      for (var j = 0u; j < 4u; j++) { store_a(m, k + j, v[j]); }
    }
    if (TRANS_B) {
      // B is [N, K]: vec4 along K, transposed into Bs.
      for (var i = tid; i < TILE_N * TILE_K / 4u; i += threads) {
        let n = i / (TILE_K / 4u);
        let k = (i % (TILE_K / 4u)) * 4u;
        var v = vec4(0.0);
        if (col0 + n < N && k0 + k < K) { v = b4[b_off + ((col0 + n) * K + k0 + k) / 4u]; }
        for (var j = 0u; j < 4u; j++) { store_b(k + j, n, v[j]); }
      }
    } else {
      // B is [K, N]: vec4 along N, copied straight into Bs.
      for (var i = tid; i < TILE_K * TILE_N / 4u; i += threads) {
        let k = i / (TILE_N / 4u);
        let n4 = i % (TILE_N / 4u);
        var v = vec4(0.0);
        if (k0 + k < K && col0 + n4 * 4u < N) { v = b4[b_off + ((k0 + k) * N + col0) / 4u + n4]; }
        Bs[k * (TILE_N / 4u) + n4] = v;
      }
    }
    workgroupBarrier();
    accumulate(&acc, lid.x, lid.y);
    workgroupBarrier();
  }
  let col = col0 + lid.x * 4u;
  if (col >= N) { return; }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    if (row >= M) { break; }
    let o = c_off + (row * N + col) / 4u;
    out4[o] = epilogue4(acc[i], col / 4u, o);
  }
}

// ---- GEMV (M == 1) -------------------------------------------------------------------------------
// Both GEMVs split each dot product over a group of TPR threads (lib/lanes*.wgsl: summed with
// subgroup shuffles where the subgroups are wide enough, in workgroup memory otherwise).

override TPR: u32 = 8;   // threads per dot product (a power of two ≤ 32)
override NR: u32 = 2;    // gemv_t: outputs per group (1..4), so each activation load serves NR rows

/** B [K, N]: a group computes one vec4 of outputs, its lanes taking every TPR-th row of B. */
@compute @workgroup_size(256, 1, 1)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  let N4 = params.N / 4u;
  let g = lane_of(ids);
  let c4 = flat_group(wid, nwg) * (256u / TPR) + g.x;
  let c = min(c4, N4 - 1u);   // groups past the end compute a copy of the last column, never stored
  var acc = vec4(0.0);
  for (var k = g.y; k < params.K; k += TPR) { acc = fma(vec4(a[k]), b4[k * N4 + c], acc); }
  let s = lane_sum(acc, ids);
  if (g.y == 0u && c4 < N4) { out4[c4] = epilogue4(s, c4, c4); }
}

/**
 * B [K, N] with N % 4 != 0 (a 50,257-wide vocabulary): rows of B are not vec4-aligned, so a group
 * reads its four adjacent columns as scalars (still contiguous across the groups of a workgroup).
 */
@compute @workgroup_size(256, 1, 1)
fn gemv_n1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  let N = params.N;
  let g = lane_of(ids);
  let c0 = (flat_group(wid, nwg) * (256u / TPR) + g.x) * 4u;
  // Columns past N read a copy of the last one, never stored.
  let c = min(vec4(c0) + vec4(0u, 1u, 2u, 3u), vec4(N - 1u));
  var acc = vec4(0.0);
  for (var k = g.y; k < params.K; k += TPR) {
    let row = k * N;
    acc = fma(vec4(a[k]), vec4(b[row + c.x], b[row + c.y], b[row + c.z], b[row + c.w]), acc);
  }
  let s = lane_sum(acc, ids);
  if (g.y == 0u) {
    for (var r = 0u; r < 4u; r++) {
      let n = c0 + r;
      if (n < N) { out[n] = epilogue(s[r], n, n); }
    }
  }
}

/** B [N, K]: a group computes NR outputs (component r of its accumulator is output n0 + r). */
@compute @workgroup_size(256, 1, 1)
fn gemv_t(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  let K4 = params.K / 4u;
  let g = lane_of(ids);
  let n0 = (flat_group(wid, nwg) * (256u / TPR) + g.x) * NR;
  var acc = vec4(0.0);
  for (var k = g.y; k < K4; k += TPR) {
    let x = a4[k];
    for (var r = 0u; r < NR; r++) {
      let n = min(n0 + r, params.N - 1u);   // rows past N compute a copy of the last, never stored
      acc[r] += dot(b4[n * K4 + k], x);
    }
  }
  let s = lane_sum(acc, ids);
  if (g.y == 0u) {
    for (var r = 0u; r < NR; r++) {
      let n = n0 + r;
      if (n >= params.N) { break; }
      if (ACT == 2u) {   // NR is even: (n, n + 1) is a (gate, up) pair
        if (r % 2u == 0u) { out[n / 2u] = glu(s[r], s[r + 1u], n); }
      } else {
        out[n] = epilogue(s[r], n, n);
      }
    }
  }
}

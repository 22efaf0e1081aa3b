// f32 weights B [K, N] (matmul's default layout, GPT-2's Conv1D): one weight format of the matmul
// cores. Every lib/weights*.wgsl gives the cores the same functions, and the ops pick one with a
// compose() alias of lib/weights (ops/matmul.ts: WEIGHT_FORMATS):
//   stage_b(b_off, col0, k0, tid)          lib/tile: B's TILE_K × TILE_N slice into Bs
//   CHUNK_K, stage_x(tid), alias Rows,     lib/gemv: the group's outputs n0 .. n0 + NR - 1
//   gemv_rows(n0) -> Rows,                 (component r) located once, chunk c of K (CHUNK_K
//   add_chunk(acc, rows, c) -> vec4<f32>,  weights) added to them, and the group's store (lane 0,
//   store_rows(n0, s)                      n0 < N)
// and the f32 formats also stage_b4 (vec4 loads, K % 4 == 0 and N % 4 == 0) for matmul.wgsl's
// main_vec4. The formats stored by output row ([N, K]) share their half of this in lib/weights_rows.
// Here the GEMV is lib/columns4.wgsl (a group's four outputs are one vec4 of columns), or its twin
// lib/columns1.wgsl where N % 4 != 0.
//#import lib/columns4

@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;

fn stage_b(b_off: u32, col0: u32, k0: u32, tid: u32) {
  let N = params.N;
  for (var i = tid; i < TILE_N * TILE_K; i += WG_X * WG_Y) {
    let k = i / TILE_N;
    let n = i % TILE_N;
    var v = 0.0;
    if (col0 + n < N && k0 + k < params.K) { v = b[b_off + (k0 + k) * N + col0 + n]; }
    store_b(k, n, v);
  }
}

/** vec4 along N, copied straight into Bs. */
fn stage_b4(b_off: u32, col0: u32, k0: u32, tid: u32) {
  let N = params.N;
  for (var i = tid; i < TILE_K * TILE_N / 4u; i += WG_X * WG_Y) {
    let k = i / (TILE_N / 4u);
    let n4 = i % (TILE_N / 4u);
    var v = vec4(0.0);
    if (k0 + k < params.K && col0 + n4 * 4u < N) { v = b4[(b_off + (k0 + k) * N + col0) / 4u + n4]; }
    Bs[k * (TILE_N / 4u) + n4] = v;
  }
}

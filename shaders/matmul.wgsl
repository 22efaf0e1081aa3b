// Matmul with a fused epilogue, for every weight format:
//   out[b] = act(A[b] · W[b] + delta[b] + bias) + residual[b],  A [M, K], W [K, N] or stored [N, K]
// Two cores: the tiled GEMM of lib/tile.wgsl (any M) and the decode GEMV of lib/gemv.wgsl (M == 1,
// entry gemv). How W is stored is a library with the same functions for both cores:
// lib/weights.wgsl (f32 [K, N]) here, aliased by the op for the others (f32 [N, K], and the packed
// formats of dequant_matmul.wgsl); ops/matmul.ts WEIGHT_FORMATS lists them.
// Entry points here:
//   main        any M, K, N: lib/tile's GEMM, scalar loads with bounds checks on every edge
//   main_vec4   K % 4 == 0 and N % 4 == 0 (f32 weights): the same over the vec4 views
// Bindings (lib/matmul_io.wgsl, lib/weights*.wgsl): 0 params, 1 a, 2 b, 4 bias [N], 5 residual (shape
// of out), 6 delta (the un-activated out's shape), 7 out. Unused optional bindings (HAS_BIAS / HAS_RESIDUAL false) are bound to a dummy buffer.
// The epilogue (bias, activation, residual, SwiGLU pairs) is lib/epilogue_vec4.wgsl's store_out (and
// epilogue4 for the vec4 stores of main_vec4 and of the GEMV over lib/columns4; SwiGLU takes neither).
//#import lib/matmul_io
//#import lib/tile
//#import lib/lanes
//#import lib/epilogue_vec4
//#import lib/gemv
//#import lib/weights

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  tile_matmul(wid, lid, tid);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
             @builtin(local_invocation_index) tid: u32) {
  let t = tile_of(wid);
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TILE_K) {
    stage_a4(t.a_off, t.row0, k0, tid);
    stage_b4(t.b_off, t.col0, k0, tid);
    multiply_slice(&acc, lid);
  }
  let col = t.col0 + lid.x * 4u;
  if (col >= params.N) { return; }
  for (var i = 0u; i < 4u && t.row0 + lid.y * 4u + i < params.M; i++) {
    let o = (wid.z * params.M + t.row0 + lid.y * 4u + i) * params.N + col;
    out4[o / 4u] = epilogue4(acc[i], col / 4u, o / 4u);
  }
}

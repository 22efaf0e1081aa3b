// The decode GEMV (M == 1) of the matmul family: one kernel for every weight format. A group of TPR
// threads (lib/lanes*.wgsl: summed with subgroup shuffles where subgroups are wide enough, through
// workgroup memory otherwise) computes NR adjacent outputs n0 .. n0 + NR - 1, component r of its
// accumulator; its lanes take every TPR-th chunk of K and the group sums them. The weight format
// (lib/weights*.wgsl) says what a chunk is: CHUNK_K weights of K (a vec4<u32> of int8, a llama.cpp
// block of 32, one row of a [K, N] matrix...). `gemv_rows(n0)` locates the group's weights once
// (everything that depends on the outputs but not on K: row offsets, clamped columns), and
// `add_chunk(acc, rows, c)` adds chunk c's products to the accumulator, so the loop over K does no
// per-group arithmetic again (SwiftShader's JIT hoists nothing out of it); `store_rows(n0, s)` writes
// the group's outputs (lib/epilogue_vec4's store_out, or one vec4 for lib/columns4); `stage_x(tid)`
// runs once per workgroup first (the dp4a path quantizes the activations there). Bindings and
// params: lib/matmul_io.wgsl.
//#import lib/index
//#import lib/lanes
//#import lib/epilogue_vec4

override TPR: u32 = 8;   // threads per dot product (a power of two ≤ 32)
override NR: u32 = 2;    // outputs per group (1..4), so each activation load serves NR rows

@compute @workgroup_size(256, 1, 1)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  stage_x(ids.tid);
  let g = lane_of(ids);
  let n0 = (flat_group(wid, nwg) * (256u / TPR) + g.x) * NR;
  let rows = gemv_rows(n0);
  var acc = vec4(0.0);
  for (var c = g.y; c * CHUNK_K < params.K; c += TPR) { acc = add_chunk(acc, rows, c); }
  let s = lane_sum(acc, ids);
  if (g.y == 0u && n0 < params.N) { store_rows(n0, s); }
}

/** Activations 4·k4 .. 4·k4 + 3 (K % 4 == 0), zero past K: packed rows are zero-padded past K, and x must be too. */
fn x4(k4: u32) -> vec4<f32> {
  let K4 = params.K >> 2u;   // a shift: SwiftShader divides lane by lane
  return select(vec4(0.0), a4[min(k4, K4 - 1u)], k4 < K4);
}

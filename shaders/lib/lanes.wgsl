// Groups of TPR threads that share dot products (GEMV): the workgroup-memory version, for adapters
// without subgroups or with subgroups narrower than TPR (its twin is lib/lanes_subgroup.wgsl, same
// functions). Kernels declare `override TPR: u32` (a power of two ≤ 32), run 256 threads per
// workgroup, and take a `LaneIds` parameter in their entry point.

struct LaneIds {
  @builtin(local_invocation_index) tid: u32,
}

var<workgroup> lane_red: array<vec4<f32>, 256>;

/** This thread's group (0 .. 256 / TPR) and its lane in the group (0 .. TPR). */
fn lane_of(ids: LaneIds) -> vec2<u32> {
  return vec2(ids.tid / TPR, ids.tid % TPR);
}

/** The sum of `v` over the group's lanes, valid in lane 0. Call in uniform control flow. */
fn lane_sum(v: vec4<f32>, ids: LaneIds) -> vec4<f32> {
  lane_red[ids.tid] = v;
  workgroupBarrier();
  let lane = ids.tid % TPR;
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { lane_red[ids.tid] += lane_red[ids.tid + s]; }
    workgroupBarrier();
  }
  return lane_red[ids.tid];
}

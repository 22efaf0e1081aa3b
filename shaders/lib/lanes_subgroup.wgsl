//#import lib/lanes_id
enable subgroups;
// Groups of TPR threads that share dot products (GEMV), summed in registers with subgroup shuffles:
// no workgroup memory, no barrier. Needs TPR ≤ the adapter's smallest subgroup (the host checks
// subgroupMinSize). Twin of lib/lanes.wgsl; imports lib/lanes_id (an atomic counter, or
// lib/lanes_id_builtin.wgsl where the browser has subgroup_id), which numbers the groups.
//
// WGSL does not promise which invocations form a subgroup, so groups are numbered from the subgroup
// itself: subgroup number × (subgroup size / TPR) + subgroup_invocation_id / TPR. A group's lanes are
// then always in one subgroup, whatever the hardware's mapping of invocations to subgroups.

/** The sum of `v` over the group's lanes (a butterfly: every lane gets it). Uniform control flow. */
fn lane_sum(v: vec4<f32>, ids: LaneIds) -> vec4<f32> {
  var s = v;
  for (var m = TPR / 2u; m > 0u; m >>= 1u) { s += subgroupShuffleXor(s, m); }
  return s;
}

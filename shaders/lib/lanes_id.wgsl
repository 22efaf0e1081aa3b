// Group numbers without the subgroup_id builtin: each subgroup takes a dense range of numbers with
// one atomic add on a workgroup counter.

struct LaneIds {
  @builtin(local_invocation_index) tid: u32,
  @builtin(subgroup_invocation_id) sid: u32,
  @builtin(subgroup_size) size: u32,
}

var<workgroup> lane_next: atomic<u32>;

/** This thread's group (0 .. 256 / TPR) and its lane in it. Call once, in uniform control flow. */
fn lane_of(ids: LaneIds) -> vec2<u32> {
  // Zeroed explicitly, with a barrier: on SwiftShader, subgroups that reached the atomic before the
  // implicit zero-initialisation had finished each counted from 0 (measured: every group got number 0).
  if (ids.tid == 0u) { atomicStore(&lane_next, 0u); }
  workgroupBarrier();
  var first = 0u;
  if (subgroupElect()) { first = atomicAdd(&lane_next, ids.size / TPR); }
  first = subgroupBroadcastFirst(first);
  return vec2(first + ids.sid / TPR, ids.sid % TPR);
}

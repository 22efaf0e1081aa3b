// Group numbers from the subgroup_id builtin (the WGSL language feature of that name).

struct LaneIds {
  @builtin(local_invocation_index) tid: u32,
  @builtin(subgroup_invocation_id) sid: u32,
  @builtin(subgroup_size) size: u32,
  @builtin(subgroup_id) sg: u32,
}

/** This thread's group (0 .. 256 / TPR) and its lane in it. */
fn lane_of(ids: LaneIds) -> vec2<u32> {
  return vec2(ids.sg * (ids.size / TPR) + ids.sid / TPR, ids.sid % TPR);
}

enable subgroups;
// Workgroup-wide reductions with subgroup operations and one barrier, for adapters with the
// `subgroups` feature (the twin of lib/reduce.wgsl, same functions; the same scheme as
// lib/maxsum_subgroup). Kernels declare `override WG: u32` (≤ 256) and call these in uniform control
// flow.
// 1. Each subgroup reduces in registers; its first lane writes the result into the slot of its own
//    invocation index, every other lane the identity (0 for a sum, -F32_MAX for a max).
// 2. One barrier; then every subgroup reduces all WG slots (lane i takes slots i, i + size, ...) and
//    once more in registers, so every thread ends with the workgroup's value.
// No atomics and no serial step: each value sits in a slot fixed by its invocation index, and the
// slots are combined in the same order on every run, so the result does not depend on which
// subgroup finished first. A second barrier keeps a later call from writing the slots early.
//#import lib/consts

var<workgroup> red: array<f32, 256>;

fn wg_reduce(v: f32, lid: u32, take_max: bool) -> f32 {
  let identity = select(0.0, -F32_MAX, take_max);
  let lane = subgroupExclusiveAdd(1u); // this invocation's lane (all lanes are active here)
  let size = subgroupAdd(1u);
  let s = select(subgroupAdd(v), subgroupMax(v), take_max);
  red[lid] = select(identity, s, lane == 0u);
  workgroupBarrier();
  var acc = identity;
  for (var i = lane; i < WG; i += size) { acc = select(acc + red[i], max(acc, red[i]), take_max); }
  let r = select(subgroupAdd(acc), subgroupMax(acc), take_max);
  workgroupBarrier();
  return r;
}

fn wg_sum(v: f32, lid: u32) -> f32 {
  return wg_reduce(v, lid, false);
}

fn wg_max(v: f32, lid: u32) -> f32 {
  return wg_reduce(v, lid, true);
}

enable subgroups;
// A workgroup's (max, sum) with subgroup operations and one barrier, for adapters with `subgroups`
// (twin of lib/maxsum.wgsl, same function). Barriers are what a row reduction pays for: a tree costs
// log2(WG) + 1 of them, and on a software adapter each one switches every SIMD group of the workgroup.
// 1. Each subgroup merges its lanes' pairs in registers (subgroupMax, then subgroupAdd of the rescaled
//    sums); its first lane writes the result into the slot of its own invocation index, every other
//    lane an empty pair (-F32_MAX, 0).
// 2. One barrier; then every subgroup merges all the slots (lane i takes slots i, i + size, ...,
//    skipping empty ones) and once more in registers, so each thread ends with the workgroup's pair.
// Which invocations form a subgroup is the hardware's business: nothing here assumes they are
// consecutive. The order of every merge is fixed by the slots, so the result is the same on every run.
//#import lib/maxsum_core

var<workgroup> tree_m: array<f32, 256>;
var<workgroup> tree_s: array<f32, 256>;

/** The pair over this subgroup's lanes (uniform control flow). */
fn subgroup_max_sum(p: MaxSum) -> MaxSum {
  let m = subgroupMax(p.m);
  return MaxSum(m, subgroupAdd(p.s * exp(p.m - m)));
}

fn row_max_sum(own: MaxSum, lid: u32) -> MaxSum {
  let lane = subgroupExclusiveAdd(1u); // this invocation's lane (all lanes are active here)
  let size = subgroupAdd(1u);
  let sg = subgroup_max_sum(own);
  let first = lane == 0u;
  tree_m[lid] = select(-F32_MAX, sg.m, first);
  tree_s[lid] = select(0.0, sg.s, first);
  workgroupBarrier();
  var acc = MaxSum(-F32_MAX, 0.0);
  for (var i = lane; i < WG; i += size) {
    let s = tree_s[i];
    if (s > 0.0) { acc = merge(acc, MaxSum(tree_m[i], s)); }
  }
  let r = subgroup_max_sum(acc);
  workgroupBarrier(); // the slots are read before a later call writes them again
  return r;
}

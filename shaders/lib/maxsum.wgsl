// A workgroup's (max, sum) from every thread's pair, through a workgroup-memory tree: log2(WG)
// barriers, deterministic (the same pairs meet in the same order on every run and every adapter).
// Twin: lib/maxsum_subgroup.wgsl. Kernels declare `override WG: u32` (a power of two ≤ 256) and call
// row_max_sum in uniform control flow.
//#import lib/maxsum_core

var<workgroup> tree_m: array<f32, 256>;
var<workgroup> tree_s: array<f32, 256>;

fn row_max_sum(own: MaxSum, lid: u32) -> MaxSum {
  tree_m[lid] = own.m;
  tree_s[lid] = own.s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let r = merge(MaxSum(tree_m[lid], tree_s[lid]), MaxSum(tree_m[lid + half], tree_s[lid + half]));
      tree_m[lid] = r.m;
      tree_s[lid] = r.s;
    }
    workgroupBarrier();
  }
  return MaxSum(tree_m[0], tree_s[0]);
}

enable subgroups;
// Workgroup-wide reductions with subgroup operations, for adapters with the `subgroups` feature (the
// twin of lib/reduce.wgsl, same functions). Each subgroup reduces in registers; one lane per subgroup
// writes its partial; thread 0 sorts the few partials and combines them, so the result does not
// depend on which subgroup finished first. Kernels declare `override WG: u32` (≤ 256).

var<workgroup> red: array<f32, 256>;
var<workgroup> red_count: atomic<u32>;
var<workgroup> red_total: f32;

fn wg_reduce(v: f32, lid: u32, take_max: bool) -> f32 {
  let s = select(subgroupAdd(v), subgroupMax(v), take_max);
  if (subgroupElect()) { red[atomicAdd(&red_count, 1u)] = s; }
  workgroupBarrier();
  if (lid == 0u) {
    let n = atomicLoad(&red_count);
    for (var i = 1u; i < n; i++) {
      let x = red[i];
      var j = i;
      for (; j > 0u && red[j - 1u] > x; j--) { red[j] = red[j - 1u]; }
      red[j] = x;
    }
    var t = red[0];
    for (var i = 1u; i < n; i++) { t = select(t + red[i], max(t, red[i]), take_max); }
    red_total = t;
    atomicStore(&red_count, 0u);
  }
  workgroupBarrier();
  let r = red_total;
  workgroupBarrier();
  return r;
}

fn wg_sum(v: f32, lid: u32) -> f32 {
  return wg_reduce(v, lid, false);
}

fn wg_max(v: f32, lid: u32) -> f32 {
  return wg_reduce(v, lid, true);
}

// Numerically stable softmax over the last dimension, one workgroup per row, in two passes over it:
//   m = max(x); y = exp(x - m) / sum(exp(x - m))
// 1. Each thread walks its share of the row once, four elements a step, keeping a running maximum m
//    and the sum s of exp(x - m) (online softmax, Milakov & Gimelshein 2018): a new maximum rescales
//    s by exp(m_old - m_new), so one pass finds both.
// 2. The threads' (m, s) pairs merge in a workgroup-memory tree (deterministic: the same pairs meet
//    in the same order on every run and every adapter), then every thread writes exp(x - M) / S.
// Entries: main (any N), main_vec4 (N % 4 == 0: vec4 loads and stores).
// Bindings: 0 params, 1 x, 2 out.
//#import lib/index
//#import lib/consts

override WG: u32 = 256;

struct Params {
  N: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out4: array<vec4<f32>>;

var<workgroup> tree_m: array<f32, 256>;
var<workgroup> tree_s: array<f32, 256>;

struct MaxSum {
  m: f32,
  s: f32,
}

/** Adds a block whose largest value is `bm` and whose sum of exp(v - bm) is `bs`. */
fn merge(a: MaxSum, bm: f32, bs: f32) -> MaxSum {
  let m = max(a.m, bm);
  return MaxSum(m, a.s * exp(a.m - m) + bs * exp(bm - m));
}

/** Four more elements: the running maximum moves to theirs if larger, and the sum is rescaled once. */
fn add4(a: MaxSum, v: vec4<f32>) -> MaxSum {
  let m = max(a.m, max(max(v.x, v.y), max(v.z, v.w)));
  let e = exp(v - vec4(m));
  return MaxSum(m, a.s * exp(a.m - m) + (e.x + e.y) + (e.z + e.w));
}

/** The row's maximum and sum of exp(x - max), from every thread's pair. */
fn row_max_sum(own: MaxSum, lid: u32) -> MaxSum {
  tree_m[lid] = own.m;
  tree_s[lid] = own.s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let r = merge(MaxSum(tree_m[lid], tree_s[lid]), tree_m[lid + half], tree_s[lid + half]);
      tree_m[lid] = r.m;
      tree_s[lid] = r.s;
    }
    workgroupBarrier();
  }
  return MaxSum(tree_m[0], tree_s[0]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.N;
  let base = flat_group(wid, nwg) * N;
  var acc = MaxSum(-F32_MAX, 0.0);
  // Four elements per step (strided by WG, so a workgroup's loads stay contiguous): one rescale per
  // four, five exponentials per four elements, no branch.
  let N4 = N - N % (4u * WG);
  var c = lid;
  for (; c < N4; c += 4u * WG) {
    let v = vec4(x[base + c], x[base + c + WG], x[base + c + 2u * WG], x[base + c + 3u * WG]);
    acc = add4(acc, v);
  }
  for (; c < N; c += WG) { acc = merge(acc, x[base + c], 1.0); }
  let row = row_max_sum(acc, lid);
  let inv = 1.0 / row.s;
  for (var c = lid; c < N; c += WG) { out[base + c] = exp(x[base + c] - row.m) * inv; }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let N4 = params.N / 4u;
  let base = flat_group(wid, nwg) * N4;
  var acc = MaxSum(-F32_MAX, 0.0);
  for (var c = lid; c < N4; c += WG) { acc = add4(acc, x4[base + c]); }
  let row = row_max_sum(acc, lid);
  let inv = 1.0 / row.s;
  for (var c = lid; c < N4; c += WG) { out4[base + c] = exp(x4[base + c] - vec4(row.m)) * inv; }
}

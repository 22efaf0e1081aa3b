// Numerically stable softmax over the last dimension, one workgroup per row:
//   m = max(x); y = exp(x - m) / sum(exp(x - m))
// Three passes over the row (max, sum, write), so any row length works (a 50,257-wide vocabulary).
// Bindings: 0 params, 1 x, 2 out.
//#import lib/index
//#import lib/consts
//#import lib/reduce

override WG: u32 = 256;

struct Params {
  N: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.N;
  let base = flat_group(wid, nwg) * N;
  var m = -F32_MAX;
  for (var c = lid; c < N; c += WG) { m = max(m, x[base + c]); }
  m = wg_max(m, lid);
  var s = 0.0;
  for (var c = lid; c < N; c += WG) { s += exp(x[base + c] - m); }
  let inv = 1.0 / wg_sum(s, lid);
  for (var c = lid; c < N; c += WG) { out[base + c] = exp(x[base + c] - m) * inv; }
}

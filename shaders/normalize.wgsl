// Rows scaled to unit L2 norm (zero rows stay zero), one workgroup per row: y = x / ||x||.
// Bindings: 0 params, 1 x, 2 out.
//#import lib/index
//#import lib/reduce

override WG: u32 = 64;

struct Params {
  D: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let base = flat_group(wid, nwg) * params.D;
  var s = 0.0;
  for (var d = lid; d < params.D; d += WG) { let v = x[base + d]; s += v * v; }
  let norm = sqrt(wg_sum(s, lid));
  let inv = select(0.0, 1.0 / norm, norm > 0.0);
  for (var d = lid; d < params.D; d += WG) { out[base + d] = x[base + d] * inv; }
}

// Moving between [T, C] activations and per-head [H, T, D] tensors (C = H * D).
//   split_heads: out[h, t, d] = x[t, part * C + h * D + d], x being the fused QKV projection
//                [T, 3C] (part 0: q, 1: k, 2: v) or a plain [T, C] (part 0)
//   merge_heads: out[t, h * D + d] = x[h, t, d]
// Bindings: 0 params, 1 x, 2 out.
//#import lib/index

override WG: u32 = 256;

struct Params {
  T: u32,
  H: u32,
  D: u32,
  row: u32,     // elements per row of the [T, row] side
  part: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn split_heads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  let D = params.D;
  let T = params.T;
  if (i >= params.H * T * D) { return; }
  let d = i % D;
  let t = (i / D) % T;
  let h = i / (D * T);
  out[i] = x[t * params.row + params.part * params.H * D + h * D + d];
}

@compute @workgroup_size(WG)
fn merge_heads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  let D = params.D;
  let C = params.H * D;
  if (i >= params.T * C) { return; }
  let t = i / C;
  let h = (i % C) / D;
  let d = i % D;
  out[i] = x[(h * params.T + t) * D + d];
}

// Scale and causal mask for attention scores [H, T, S], as a separate dispatch: the unfused baseline
// that the fused attention kernel is measured against.
//   out[h, t, s] = x[h, t, s] * scale, or -inf-like where s > t + q_offset
// Bindings: 0 params, 1 x, 2 out.
//#import lib/index
//#import lib/consts

override WG: u32 = 256;

struct Params {
  T: u32,
  S: u32,
  scale: f32,
  q_offset: u32,
  len: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  if (i >= params.len) { return; }
  let s = i % params.S;
  let t = (i / params.S) % params.T;
  out[i] = select(x[i] * params.scale, -F32_MAX, s > t + params.q_offset);
}

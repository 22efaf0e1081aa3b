// Concatenation along the last dimension: out[r, 0..Na) = a[r, :], out[r, Na..Na+Nb) = b[r, :].
// (GPT-2's logits when the token table is split across bindings.)
// Bindings: 0 params, 1 a, 2 b, 3 out.
//#import lib/index

override WG: u32 = 256;

struct Params {
  rows: u32,
  na: u32,
  nb: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  let n = params.na + params.nb;
  if (i >= params.rows * n) { return; }
  let r = i / n;
  let c = i % n;
  out[i] = select(b[r * params.nb + c - params.na], a[r * params.na + c], c < params.na);
}

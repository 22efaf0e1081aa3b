// Moving between [T, C] activations and per-head [H, T, D] tensors (C = H * D).
//   split_heads: out[h, t, d] = x[t, col0 + h * D + d], x being a fused QKV projection (col0 where q,
//                k or v starts) or a plain [T, C] (col0 0). With ROPE, each head is rotated on the way
//                as Hugging Face's apply_rotary_pos_emb (rotate-half): for j < D / 2 at position p,
//                out[j] = x[j] cos - x[j + D/2] sin, out[j + D/2] = x[j + D/2] cos + x[j] sin, the
//                angles read from tables [P, D / 2] at row pos + t (no trigonometry in the kernel)
//   merge_heads: out[t, h * D + d] = x[h, t, d]
// Bindings: 0 params, 1 x, 2 rope_cos, 3 rope_sin (dummies without ROPE), 4 out.
//#import lib/index

override WG: u32 = 256;
override ROPE: bool = false;

struct Params {
  T: u32,
  H: u32,
  D: u32,
  row: u32,     // elements per row of the [T, row] side
  col0: u32,    // split_heads: the first column read
  pos: u32,     // ROPE: the position of token 0
  P: u32,       // ROPE: rows of the angle tables
  group: u32,   // split_heads: output head h reads input head h / group (repeated KV heads)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> rope_cos: array<f32>;
@group(0) @binding(3) var<storage, read> rope_sin: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

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
  let src = t * params.row + params.col0 + (h / params.group) * D;
  var v = x[src + d];
  if (ROPE) {
    let half = D / 2u;
    let j = d % half;
    let a = min(params.pos + t, params.P - 1u) * half + j;   // positions are checked before a run
    if (d < half) { v = v * rope_cos[a] - x[src + d + half] * rope_sin[a]; }
    else { v = v * rope_cos[a] + x[src + j] * rope_sin[a]; }
  }
  out[i] = v;
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

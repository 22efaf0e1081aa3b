// Token + position embedding (GPT-2): out[t, c] = wte[ids[t], c] + wpe[pos + t, c].
// `pos` (the position of the first token) is a uniform, so one decode plan serves every step.
// wte may be one of several row blocks of a table too large for one binding: this block holds rows
// [id_lo, id_lo + V), ids outside it contribute zero, and only one block adds the position (add_pos).
// Token ids are checked on the CPU before a run; nothing is read out of bounds whatever they are.
// Bindings: 0 params, 1 ids (u32), 2 wte [V, C], 3 wpe [P, C], 4 out [T, C].

override WG: u32 = 256;

struct Params {
  T: u32,
  C: u32,
  V: u32,
  P: u32,
  pos: u32,
  id_lo: u32,
  add_pos: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let C = params.C;
  if (i >= params.T * C) { return; }
  let t = i / C;
  let c = i % C;
  let id = ids[t];
  var v = 0.0;
  if (id >= params.id_lo && id - params.id_lo < params.V) { v = wte[(id - params.id_lo) * C + c]; }
  if (params.add_pos == 1u) { v += wpe[min(params.pos + t, params.P - 1u) * C + c]; }
  out[i] = v;
}

// Token + position embedding (GPT-2), shared by embedding.wgsl (f32 token table) and
// dequant_embedding.wgsl (int8): out[t, c] = table[ids[t], c] + wpe[pos + t, c]. Each of them declares
// its bindings (ids, wpe, out and the table) and `fn token_value(row, c) -> f32`.
// `pos` (the position of the first token) is a uniform, so one decode plan serves every step.
// The table may be one of several row blocks of a table too large for one binding: this block holds
// rows [id_lo, id_lo + V), ids outside it contribute zero, and only one block adds the position
// (add_pos). Token ids are checked on the CPU before a run; nothing is read out of bounds whatever
// they are.
//#import lib/index

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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_group(wid, nwg) * WG + lid;
  let C = params.C;
  if (i >= params.T * C) { return; }
  let t = i / C;
  let c = i % C;
  let id = ids[t];
  var v = 0.0;
  if (id >= params.id_lo && id - params.id_lo < params.V) { v = token_value(id - params.id_lo, c); }
  if (params.add_pos == 1u) { v += wpe[min(params.pos + t, params.P - 1u) * C + c]; }
  out[i] = v;
}

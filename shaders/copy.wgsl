// Copies between tensors, flat or as rows.
//   assign: writes `value`, viewed as [outer, rows, row_len], into a state tensor in place:
//           out[offset + o * dst_outer + r * dst_row + c] = value[(o * rows + r) * row_len + c]
//           With a per-run offset (a plan scalar) this appends a KV-cache row for every head, and
//           carries LSTM h/c over between runs.
//   slice:  out[i] = src[offset + i], e.g. the last row of a [T, C] activation.
//   assign_half: the same into a state of f16 halves, two per u32 word (an f16 KV cache).
// Bindings: 0 params, 1 value / src, 2 out. Writes past `capacity` are dropped, never out of bounds.
//#import lib/index

override WG: u32 = 256;

struct Params {
  len: u32,          // elements to copy
  row_len: u32,
  rows: u32,         // rows per outer index
  offset: u32,       // element offset into out (assign) or src (slice)
  dst_row: u32,
  dst_outer: u32,
  capacity: u32,     // elements in out (assign) or src (slice)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> value: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> out_h: array<u32>;

fn flat(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return flat_group(wid, nwg) * WG + lid;
}

@compute @workgroup_size(WG)
fn assign(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= params.len) { return; }
  let c = i % params.row_len;
  let r = (i / params.row_len) % params.rows;
  let o = i / (params.row_len * params.rows);
  let dst = params.offset + o * params.dst_outer + r * params.dst_row + c;
  if (dst < params.capacity) { out[dst] = value[i]; }
}

/**
 * assign into a state of packed halves (an f16 KV cache): thread i writes one word, value elements
 * 2i and 2i + 1 (rows, offsets and strides are even, so a word never straddles two rows).
 */
@compute @workgroup_size(WG)
fn assign_half(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = 2u * flat(wid, nwg, lid);
  if (i >= params.len) { return; }
  let c = i % params.row_len;
  let r = (i / params.row_len) % params.rows;
  let o = i / (params.row_len * params.rows);
  let dst = params.offset + o * params.dst_outer + r * params.dst_row + c;
  if (dst + 1u < params.capacity) { out_h[dst / 2u] = pack2x16float(vec2(value[i], value[i + 1u])); }
}

@compute @workgroup_size(WG)
fn slice(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  let s = params.offset + i;
  if (i < params.len && s < params.capacity) { out[i] = value[s]; }
}

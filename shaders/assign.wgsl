// assign: writes a value into a persistent state tensor in place, at an element offset that may
// change every run (a uniform fed from a plan scalar): out[offset + i] = value[i] for i < len.
// This is how a KV cache row is appended and how LSTM h/c carry over between runs.
// Bindings: 0 params, 1 value, 2 out (the state's own buffer).

override WG: u32 = 256;

struct Params {
  len: u32,
  offset: u32,
  capacity: u32,   // elements in the state; writes beyond it are dropped, never out of bounds
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> value: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let o = params.offset + i;
  if (i < params.len && o < params.capacity) { out[o] = value[i]; }
}

// Appends token ids to a u32 state in place: state[offset + t] = ids[t] (the id history the repetition
// penalty reads). Offsets are checked on the CPU before a run.
// Bindings: 0 params, 1 ids, 2 state (the output: written in place).

struct Params {
  T: u32,
  offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < params.T) { state[params.offset + gid.x] = ids[gid.x]; }
}

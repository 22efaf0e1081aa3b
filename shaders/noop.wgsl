// The overhead floor for benchmarks: one workgroup of one thread writing one word.
// Bindings: 0 params, 1 out.

struct Params {
  value: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(1)
fn main() {
  out[0] = params.value;
}

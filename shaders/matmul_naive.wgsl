// Naive matmul: one thread per output element, reading A and B straight from global memory.
// Kept only as the benchmark baseline that the tiled kernel (matmul.wgsl) is measured against.
// Bindings: 0 params, 1 A [batch, M, K], 2 B [K, N] or [batch, K, N], 3 out [batch, M, N].

override WG: u32 = 16;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch_stride_a: u32,
  batch_stride_b: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG, WG, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let m = gid.y;
  if (m >= params.M || n >= params.N) { return; }
  let a_off = gid.z * params.batch_stride_a + m * params.K;
  let b_off = gid.z * params.batch_stride_b;
  var s = 0.0;
  for (var k = 0u; k < params.K; k++) {
    s = fma(a[a_off + k], b[b_off + k * params.N + n], s);
  }
  out[gid.z * params.M * params.N + m * params.N + n] = s;
}

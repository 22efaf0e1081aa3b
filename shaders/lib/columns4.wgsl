// The GEMV of f32 weights [K, N] (lib/weights.wgsl), N % 4 == 0: a chunk is one row k of B against
// activation k, and a group's four outputs (NR = 4) are adjacent columns, one vec4 load.
// Twin: lib/columns1.wgsl (any N, four scalar loads).

const CHUNK_K: u32 = 1u;

fn stage_x(tid: u32) {}

/** Row k at the group's columns n0..n0+3 (a group past N reads a copy of the last vec4, never stored). */
fn add_chunk(acc: vec4<f32>, n0: u32, k: u32) -> vec4<f32> {
  let N4 = params.N / 4u;
  return fma(vec4(a[k]), b4[k * N4 + min(n0 / 4u, N4 - 1u)], acc);
}

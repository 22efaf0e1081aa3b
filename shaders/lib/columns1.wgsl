// The GEMV of f32 weights [K, N] (lib/weights.wgsl) for any N (a 50,257-wide vocabulary): rows of B
// are not vec4-aligned, so a group reads its four adjacent columns as scalars (still contiguous across
// the groups of a workgroup). Twin of lib/columns4.wgsl.

const CHUNK_K: u32 = 1u;

fn stage_x(tid: u32) {}

/** Row k at the group's columns n0..n0+3 (columns past N read a copy of the last, never stored). */
fn add_chunk(acc: vec4<f32>, n0: u32, k: u32) -> vec4<f32> {
  let N = params.N;
  let c = min(vec4(n0) + vec4(0u, 1u, 2u, 3u), vec4(N - 1u));
  let row = k * N;
  return fma(vec4(a[k]), vec4(b[row + c.x], b[row + c.y], b[row + c.z], b[row + c.w]), acc);
}

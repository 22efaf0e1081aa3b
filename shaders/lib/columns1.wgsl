// The GEMV of f32 weights [K, N] (lib/weights.wgsl) for any N (a 50,257-wide vocabulary): rows of B
// are not vec4-aligned, so a group reads its four adjacent columns as scalars (still contiguous across
// the groups of a workgroup). Twin of lib/columns4.wgsl.

const CHUNK_K: u32 = 1u;
alias Rows = vec4<u32>;   // the group's four columns

fn stage_x(tid: u32) {}

/** Columns past N read a copy of the last, never stored. */
fn gemv_rows(n0: u32) -> Rows {
  return min(vec4(n0) + vec4(0u, 1u, 2u, 3u), vec4(params.N - 1u));
}

fn store_rows(n0: u32, s: vec4<f32>) {
  store_out(n0, n0, s, min(4u, params.N - n0));
}

/** Row k at the group's columns. */
fn add_chunk(acc: vec4<f32>, rows: Rows, k: u32) -> vec4<f32> {
  let c = rows + k * params.N;
  return fma(vec4(a[k]), vec4(b[c.x], b[c.y], b[c.z], b[c.w]), acc);
}

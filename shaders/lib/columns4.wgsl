// The GEMV of f32 weights [K, N] (lib/weights.wgsl), N % 4 == 0: a chunk is one row k of B against
// activation k, and a group's four outputs (NR = 4) are adjacent columns, one vec4 load.
// Twin: lib/columns1.wgsl (any N, four scalar loads).

const CHUNK_K: u32 = 1u;
alias Rows = vec2<u32>;   // the group's vec4 of columns (clamped to the last), the row stride N / 4

fn stage_x(tid: u32) {}

/** A group past N reads a copy of the last vec4, never stored. */
fn gemv_rows(n0: u32) -> Rows {
  let N4 = params.N / 4u;
  return vec2(min(n0 / 4u, N4 - 1u), N4);
}

/** The group's four outputs, one vec4 (ACT is never SwiGLU here: ops/matmul.ts). */
fn store_rows(n0: u32, s: vec4<f32>) {
  out4[n0 / 4u] = epilogue4(s, n0 / 4u, n0 / 4u);
}

/** Row k at the group's columns. */
fn add_chunk(acc: vec4<f32>, rows: Rows, k: u32) -> vec4<f32> {
  return fma(vec4(a[k]), b4[k * rows.y + rows.x], acc);
}

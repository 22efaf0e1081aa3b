// The half of a weight format that every format stored by output row ([N, K], rows along K: f32
// transposed, f16, bf16, int8, llama.cpp's blocks) shares: the GEMV's NR rows per group and the
// GEMM's staging of B, `stage_rows` (see lib/weights.wgsl for what the cores call). The format gives
//   CHUNK_K, alias Chunk, load_chunk(c) -> Chunk   the activations of chunk c, loaded once for NR rows
//   row_at(n) -> u32                               where row n starts, in the format's units (once
//                                                  per group: the GEMV's loop over K only adds)
//   add_row(acc, n, at, c, x) -> f32               acc + chunk c of row n (starting at `at`) · *x
//                                                  (x: ptr<function, Chunk>: one copy for the NR rows)
//   row_len() -> u32                               weights per stored row (K, or K padded)
//   weights4(b_off, n, k) -> vec4<f32>            weights k..k+3 (k a multiple of 4) of row n

/** The group's NR rows n0 + r: index and row_at (rows past N: a copy of the last, never stored). */
struct Rows {
  n: vec4<u32>,
  at: vec4<u32>,
}

fn gemv_rows(n0: u32) -> Rows {
  let n = min(vec4(n0) + vec4(0u, 1u, 2u, 3u), vec4(params.N - 1u));
  return Rows(n, vec4(row_at(n.x), row_at(n.y), row_at(n.z), row_at(n.w)));
}

/** The group's outputs n0 .. (n0 < N). */
fn store_rows(n0: u32, s: vec4<f32>) {
  store_out(n0, n0, s, min(NR, params.N - n0));
}

/**
 * Chunk c of the group's NR rows, its activations loaded once. The rows are written out (NR is a
 * constant, the branches fold): no loop counter, no dynamically indexed vector, in every JIT.
 */
fn add_chunk(acc: vec4<f32>, rows: Rows, c: u32) -> vec4<f32> {
  var x = load_chunk(c);
  var s = acc;
  s.x = add_row(s.x, rows.n.x, rows.at.x, c, &x);
  if (NR > 1u) { s.y = add_row(s.y, rows.n.y, rows.at.y, c, &x); }
  if (NR > 2u) { s.z = add_row(s.z, rows.n.z, rows.at.z, c, &x); }
  if (NR > 3u) { s.w = add_row(s.w, rows.n.w, rows.at.w, c, &x); }
  return s;
}

/** B's slice: four weights along K a step, transposed into Bs; zeros past N and past the stored row. */
fn stage_rows(b_off: u32, col0: u32, k0: u32, tid: u32) {
  for (var i = tid; i < TILE_N * TILE_K / 4u; i += WG_X * WG_Y) {
    let n = i / (TILE_K / 4u);
    let k = (i % (TILE_K / 4u)) * 4u;
    var v = vec4(0.0);
    // Packed rows hold row_len() weights, zero (or multiplied by a zero activation) past K.
    if (col0 + n < params.N && k0 + k < row_len()) { v = weights4(b_off, col0 + n, k0 + k); }
    for (var j = 0u; j < 4u; j++) { store_b(k + j, n, v[j]); }
  }
}

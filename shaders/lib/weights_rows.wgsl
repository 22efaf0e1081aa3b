// The half of a weight format that every format stored by output row ([N, K], rows along K: f32
// transposed, f16, bf16, int8, llama.cpp's blocks) shares: the GEMV's NR rows per group and the
// GEMM's staging of B, `stage_rows` (see lib/weights.wgsl for what the cores call). The format gives
//   CHUNK_K, alias Chunk, load_chunk(c) -> Chunk   the activations of chunk c, loaded once for NR rows
//   add_row(acc, n, c, x) -> f32                   acc + row n's chunk c · x
//   row_len() -> u32                               weights per stored row (K, or K padded)
//   weights4(b_off, n, k) -> vec4<f32>            weights k..k+3 (k a multiple of 4) of row n

/** Chunk c of the group's NR rows n0 + r (rows past N compute a copy of the last, never stored). */
fn add_chunk(acc: vec4<f32>, n0: u32, c: u32) -> vec4<f32> {
  let x = load_chunk(c);
  var s = acc;
  for (var r = 0u; r < NR; r++) { s[r] = add_row(s[r], min(n0 + r, params.N - 1u), c, x); }
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

// llama.cpp's block formats [N, K] (q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl,
// iq4_xs), the bytes of a GGUF tensor as they are,
// each row a whole number of blocks (zero weights past K): a weight format of the matmul cores
// (lib/weights.wgsl lists the functions). The block type is a library aliased for lib/q8_0 (lib/q4_0,
// lib/q5_0, lib/q4_k, lib/q6_k and the rest, one per type: BLOCK_LEN, BLOCK_BYTES, block_weights4,
// block_dot32); the GEMV's chunk is
// lib/blocks_gemv.wgsl (32 weights a lane), or its twin lib/blocks_gemv_dp4a.wgsl.
//#import lib/weights_rows
//#import lib/q8_0
//#import lib/blocks_gemv

@group(0) @binding(2) var<storage, read> qw: array<u32>;

/** Blocks per stored row. */
fn row_blocks() -> u32 {
  return (params.K + BLOCK_LEN - 1u) / BLOCK_LEN;
}

fn row_len() -> u32 {
  return row_blocks() * BLOCK_LEN;
}

/** Byte offset of row n's first block. */
fn row_at(n: u32) -> u32 {
  return n * row_blocks() * BLOCK_BYTES;
}

/** Byte offset of the block holding weight k of row n. */
fn block_at(n: u32, k: u32) -> u32 {
  return (n * row_blocks() + k / BLOCK_LEN) * BLOCK_BYTES;
}

fn weights4(b_off: u32, n: u32, k: u32) -> vec4<f32> {
  return block_weights4(block_at(n, k), k);
}

fn stage_b(b_off: u32, col0: u32, k0: u32, tid: u32) {
  stage_rows(b_off, col0, k0, tid);
}

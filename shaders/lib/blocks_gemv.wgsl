// The GEMV chunk of lib/weights_blocks.wgsl: 32 weights a lane (one q8_0 / q4_0 block, a q4_k
// sub-block, two q6_k sub-blocks) against eight activation vec4s and their two half sums, loaded once
// for the group's NR rows (lib/ggml_blocks' Chunk32, passed by pointer); the block type's block_dot32
// decodes the scales once per chunk.
// Twin: lib/blocks_gemv_dp4a.wgsl (q8_0 with quantized activations).

const CHUNK_K: u32 = 32u;
alias Chunk = Chunk32;

fn stage_x(tid: u32) {}

fn load_chunk(c: u32) -> Chunk {
  var x: array<vec4<f32>, 8>;
  for (var j = 0u; j < 8u; j++) { x[j] = x4(8u * c + j); }
  let sum = vec2(dot(x[0] + x[1] + x[2] + x[3], vec4(1.0)), dot(x[4] + x[5] + x[6] + x[7], vec4(1.0)));
  return Chunk(x, sum, c / (BLOCK_LEN / 32u) * BLOCK_BYTES);
}

fn add_row(acc: f32, n: u32, at: u32, c: u32, x: ptr<function, Chunk>) -> f32 {
  return acc + block_dot32(at + (*x).at, 32u * c, x);
}

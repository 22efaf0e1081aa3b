// llama.cpp's Q8_0 block (34 bytes, 32 weights): an f16 scale d, then 32 int8 q; w = d · q.
// A block type of lib/weights_blocks.wgsl and the packed embedding; its twins lib/q4_0, lib/q5_0, lib/q4_k
// and lib/q6_k have the same constants and functions (`at` is the block's byte offset, k a weight's index
// in its row, only k mod BLOCK_LEN counts).
//#import lib/ggml_blocks
//#import lib/unpack

const BLOCK_LEN: u32 = 32u;
const BLOCK_BYTES: u32 = 34u;

/** Weights k..k+3 (k a multiple of 4) of the block at `at`, dequantised. */
fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(unpack_bytes(word_at(at + 2u + k % 32u))) * half_at(at);
}

/**
 * Σ w·x over the 32 weights k..k+31 (k a multiple of 32) of the block at `at` against the chunk's
 * activations (x.x, eight vec4s, whose two halves sum to x.sum): the GEMV's inner step. Scales are
 * decoded once per call; the quants are dotted unscaled and the block's affine map applied to the
 * sums: Σ (s·q − m)·x = s·Σ q·x − m·Σ x.
 */
fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  let w = words8_at(at + 2u);
  var q = 0.0;
  for (var i = 0u; i < 8u; i++) { q += dot(vec4<f32>(unpack_bytes(w[i])), (*x).x[i]); }
  return half_at(at) * q;
}

// llama.cpp's Q4_K super-block (144 bytes, 256 weights): f16 d and dmin, 12 bytes of 6-bit scales and
// mins for eight sub-blocks of 32, then 128 bytes of nibbles (sub-block j: nibble j % 2 of the 32
// bytes at 16 + 32 (j / 2)); w = d · sc_j · q − dmin · m_j. Twin of lib/q8_0.wgsl (same functions).
//#import lib/ggml_blocks

const BLOCK_LEN: u32 = 256u;
const BLOCK_BYTES: u32 = 144u;

fn block_weights4(at: u32, k: u32) -> vec4<f32> {
  let r = k % 256u;
  let s = scale_min_k4(at, r / 32u);
  return nibbles4(qw[(at + 16u + 32u * (r / 64u) + r % 32u) / 4u], (r / 32u) % 2u) * s.x - s.y;
}

fn block_dot32(at: u32, k: u32, x: ptr<function, Chunk32>) -> f32 {
  let j = (k % 256u) / 32u;
  let s = scale_min_k4(at, j);
  let w0 = (at + 16u + 32u * (j / 2u)) / 4u;
  var q = 0.0;
  for (var i = 0u; i < 8u; i++) { q += dot(nibbles4(qw[w0 + i], j % 2u), (*x).x[i]); }
  return s.x * q - s.y * ((*x).sum.x + (*x).sum.y);
}

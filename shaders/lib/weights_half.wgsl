// 16-bit weights [N, Kp], two per u32 (low half first), rows zero-padded to Kp (a multiple of 8), no
// scales: IEEE halves (lib/f16.wgsl) or bfloat16 (its twin lib/bf16.wgsl, aliased for it), as
// ops/quantize.ts lays them out. unpack2x16float is core WGSL and bf16 is a shift: no shader-f16
// needed; the sums are f32. A weight format of the matmul cores (lib/weights.wgsl lists the
// functions): a GEMV chunk is one vec4<u32> of eight weights against two activation vec4s.
//#import lib/weights_rows
//#import lib/f16

@group(0) @binding(2) var<storage, read> qw: array<u32>;
@group(0) @binding(2) var<storage, read> qw4: array<vec4<u32>>;

const CHUNK_K: u32 = 8u;
alias Chunk = array<vec4<f32>, 2>;

fn stage_x(tid: u32) {}

/** u32 words per stored row. */
fn row_words() -> u32 {
  return (params.K + 7u) / 8u * 4u;
}

fn row_len() -> u32 {
  return 2u * row_words();
}

fn load_chunk(c: u32) -> Chunk {
  return Chunk(x4(2u * c), x4(2u * c + 1u));
}

/** Row n's first vec4<u32>. */
fn row_at(n: u32) -> u32 {
  return n * row_words() / 4u;
}

fn add_row(acc: f32, n: u32, at: u32, c: u32, x: ptr<function, Chunk>) -> f32 {
  let w = qw4[at + c];
  return acc + dot(vec4(unpack_pair(w.x), unpack_pair(w.y)), (*x)[0]) + dot(vec4(unpack_pair(w.z), unpack_pair(w.w)), (*x)[1]);
}

fn weights4(b_off: u32, n: u32, k: u32) -> vec4<f32> {
  let w = n * row_words() + k / 2u;
  return vec4(unpack_pair(qw[w]), unpack_pair(qw[w + 1u]));
}

fn stage_b(b_off: u32, col0: u32, k0: u32, tid: u32) {
  stage_rows(b_off, col0, k0, tid);
}

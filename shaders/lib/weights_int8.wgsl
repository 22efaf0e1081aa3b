// Per-channel int8 weights [N, Kp] (ops/quantize.ts 'per-channel'): four per u32 along K, rows
// zero-padded to Kp (a multiple of 16), one f32 scale per output row:
//   W[n, k] = int8(qw[n, k / 4] >> 8 · (k % 4)) · scales[n]
// A weight format of the matmul cores (lib/weights.wgsl lists the functions): a GEMV chunk is one
// vec4<u32> of 16 weights against four activation vec4s, scaled once per row.
//#import lib/weights_rows
//#import lib/unpack

@group(0) @binding(2) var<storage, read> qw: array<u32>;
@group(0) @binding(2) var<storage, read> qw4: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;

const CHUNK_K: u32 = 16u;
alias Chunk = array<vec4<f32>, 4>;

fn stage_x(tid: u32) {}

/** u32 words per stored row. */
fn row_words() -> u32 {
  return (params.K + 15u) / 16u * 4u;
}

fn row_len() -> u32 {
  return 4u * row_words();
}

fn load_chunk(c: u32) -> Chunk {
  return Chunk(x4(4u * c), x4(4u * c + 1u), x4(4u * c + 2u), x4(4u * c + 3u));
}

fn bytes_f32(w: u32) -> vec4<f32> {
  return vec4<f32>(unpack_bytes(w));
}

/** Row n's first vec4<u32>. */
fn row_at(n: u32) -> u32 {
  return n * row_words() / 4u;
}

fn add_row(acc: f32, n: u32, at: u32, c: u32, x: ptr<function, Chunk>) -> f32 {
  let w = qw4[at + c];
  let p = dot(bytes_f32(w.x), (*x)[0]) + dot(bytes_f32(w.y), (*x)[1]) + dot(bytes_f32(w.z), (*x)[2]) + dot(bytes_f32(w.w), (*x)[3]);
  return fma(p, scales[n], acc);
}

fn weights4(b_off: u32, n: u32, k: u32) -> vec4<f32> {
  return bytes_f32(qw[n * row_words() + k / 4u]) * scales[n];
}

fn stage_b(b_off: u32, col0: u32, k0: u32, tid: u32) {
  stage_rows(b_off, col0, k0, tid);
}

// f32 weights stored [N, K] (nn.Linear's layout; matmul with transposeB): a weight format of the
// matmul cores (lib/weights.wgsl lists the functions). A GEMV chunk is one vec4 of K (K % 4 == 0).
//#import lib/weights_rows

@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;

const CHUNK_K: u32 = 4u;
alias Chunk = vec4<f32>;

fn stage_x(tid: u32) {}

fn load_chunk(c: u32) -> Chunk {
  return a4[c];
}

/** Row n's first vec4. */
fn row_at(n: u32) -> u32 {
  return n * (params.K / 4u);
}

fn add_row(acc: f32, n: u32, at: u32, c: u32, x: ptr<function, Chunk>) -> f32 {
  return acc + dot(b4[at + c], *x);
}

fn row_len() -> u32 {
  return params.K;
}

/** K % 4 == 0: one vec4 (stage_b4 only). */
fn weights4(b_off: u32, n: u32, k: u32) -> vec4<f32> {
  return b4[(b_off + n * params.K + k) / 4u];
}

/** vec4 along K, transposed into Bs. */
fn stage_b4(b_off: u32, col0: u32, k0: u32, tid: u32) {
  stage_rows(b_off, col0, k0, tid);
}

/** Any K: scalar loads, consecutive threads along K. */
fn stage_b(b_off: u32, col0: u32, k0: u32, tid: u32) {
  let K = params.K;
  for (var i = tid; i < TILE_N * TILE_K; i += WG_X * WG_Y) {
    let n = i / TILE_K;
    let k = i % TILE_K;
    var v = 0.0;
    if (col0 + n < params.N && k0 + k < K) { v = b[b_off + (col0 + n) * K + k0 + k]; }
    store_b(k, n, v);
  }
}

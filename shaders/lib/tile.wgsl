// The tiled GEMM of the matmul family (matmul.wgsl, dequant_matmul.wgsl): one core for every weight
// format. A workgroup computes a TILE_M × TILE_N tile of out, staging TILE_K-deep slices of A and B
// in workgroup memory; a thread (lid.x, lid.y) owns output rows 4·lid.y..+3 and columns 4·lid.x..+3
// of the tile, a 4×4 register block. A is staged here; B by the weight format's
// `stage_b(b_off, col0, k0, tid)` (lib/weights*.wgsl), which dequantises packed weights as it stages
// them. matmul.wgsl's main_vec4 is the same loop over vec4 views (stage_a4, the f32 formats'
// stage_b4, vec4 stores): WGSL lets an entry point use one view of a binding only.
// Bindings and params: lib/matmul_io.wgsl.
//#import lib/epilogue_vec4

override WG_X: u32 = 16;        // threads along N; TILE_N = 4 * WG_X
override WG_Y: u32 = 16;        // threads along M; TILE_M = 4 * WG_Y
override TILE_K: u32 = 16;      // depth of one staged slice; a multiple of 4

override TILE_M: u32 = 4u * WG_Y;  // derived; not meant to be set
override TILE_N: u32 = 4u * WG_X;  // derived; not meant to be set

// As[k][m / 4] holds A^T for the slice: a vec4 is four consecutive rows at one k.
var<workgroup> As: array<vec4<f32>, TILE_K * TILE_M / 4u>;
// Bs[k][n / 4]: a vec4 is four consecutive columns at one k.
var<workgroup> Bs: array<vec4<f32>, TILE_K * TILE_N / 4u>;

/** Where the workgroup's tile lies: its first row and column, and its batch's offsets into A and B. */
struct Tile {
  row0: u32,
  col0: u32,
  a_off: u32,
  b_off: u32,
}

fn tile_of(wid: vec3<u32>) -> Tile {
  return Tile(wid.y * TILE_M, wid.x * TILE_N, wid.z * params.batch_stride_a, wid.z * params.batch_stride_b);
}

/** out[batch wid.z] = epilogue(A · B): the tile at (wid.y, wid.x), scalar loads and stores. */
fn tile_matmul(wid: vec3<u32>, lid: vec3<u32>, tid: u32) {
  let t = tile_of(wid);
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TILE_K) {
    stage_a(t.a_off, t.row0, k0, tid);
    stage_b(t.b_off, t.col0, k0, tid);
    multiply_slice(&acc, lid);
  }
  let M = params.M;
  let N = params.N;
  let col = t.col0 + lid.x * 4u;
  if (col >= N) { return; }
  for (var i = 0u; i < 4u; i++) {
    let row = t.row0 + lid.y * 4u + i;
    if (row >= M) { break; }
    store_out(wid.z * M * N + row * N + col, col, acc[i], min(4u, N - col));
  }
}

/** The staged slices (after a barrier) into the thread's accumulators; then a barrier before the next. */
fn multiply_slice(acc: ptr<function, array<vec4<f32>, 4>>, lid: vec3<u32>) {
  workgroupBarrier();
  accumulate(acc, lid.x, lid.y);
  workgroupBarrier();
}

// Multiplies the staged slices into the thread's 4×4 accumulator block.
fn accumulate(acc: ptr<function, array<vec4<f32>, 4>>, tx: u32, ty: u32) {
  for (var k = 0u; k < TILE_K; k++) {
    let av = As[k * (TILE_M / 4u) + ty];
    let bv = Bs[k * (TILE_N / 4u) + tx];
    (*acc)[0] = fma(vec4(av.x), bv, (*acc)[0]);
    (*acc)[1] = fma(vec4(av.y), bv, (*acc)[1]);
    (*acc)[2] = fma(vec4(av.z), bv, (*acc)[2]);
    (*acc)[3] = fma(vec4(av.w), bv, (*acc)[3]);
  }
}

fn store_a(m: u32, k: u32, v: f32) {
  As[k * (TILE_M / 4u) + m / 4u][m % 4u] = v;
}

fn store_b(k: u32, n: u32, v: f32) {
  Bs[k * (TILE_N / 4u) + n / 4u][n % 4u] = v;
}

/** All threads: stage A's slice (rows row0.., columns k0..) with scalar loads, zeros past the edges. */
fn stage_a(a_off: u32, row0: u32, k0: u32, tid: u32) {
  let K = params.K;
  for (var i = tid; i < TILE_M * TILE_K; i += WG_X * WG_Y) {
    let m = i / TILE_K;
    let k = i % TILE_K;
    var v = 0.0;
    if (row0 + m < params.M && k0 + k < K) { v = a[a_off + (row0 + m) * K + k0 + k]; }
    store_a(m, k, v);
  }
}

/** stage_a with K % 4 == 0: TILE_M rows × TILE_K / 4 vec4 along K, transposed into As. */
fn stage_a4(a_off: u32, row0: u32, k0: u32, tid: u32) {
  let K = params.K;
  for (var i = tid; i < TILE_M * TILE_K / 4u; i += WG_X * WG_Y) {
    let m = i / (TILE_K / 4u);
    let k = (i % (TILE_K / 4u)) * 4u;
    var v = vec4(0.0);
    if (row0 + m < params.M && k0 + k < K) { v = a4[(a_off + (row0 + m) * K + k0 + k) / 4u]; }
    for (var j = 0u; j < 4u; j++) { store_a(m, k + j, v[j]); }
  }
}

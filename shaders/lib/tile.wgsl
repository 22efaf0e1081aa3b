// Shared by the tiled matmul kernels (matmul.wgsl, dequant_matmul.wgsl): tile sizes, the A and B
// slices staged in workgroup memory, and the 4×4 register-block multiply over one staged slice.
// A thread (lid.x, lid.y) owns output rows 4·lid.y..+3 and columns 4·lid.x..+3 of the tile.
// The including kernel declares `a: array<f32>`, the row-major [M, K] left operand.

override WG_X: u32 = 16;        // threads along N; TILE_N = 4 * WG_X
override WG_Y: u32 = 16;        // threads along M; TILE_M = 4 * WG_Y
override TILE_K: u32 = 16;      // depth of one staged slice; a multiple of 4

override TILE_M: u32 = 4u * WG_Y;  // derived; not meant to be set
override TILE_N: u32 = 4u * WG_X;  // derived; not meant to be set

// As[k][m / 4] holds A^T for the slice: a vec4 is four consecutive rows at one k.
var<workgroup> As: array<vec4<f32>, TILE_K * TILE_M / 4u>;
// Bs[k][n / 4]: a vec4 is four consecutive columns at one k.
var<workgroup> Bs: array<vec4<f32>, TILE_K * TILE_N / 4u>;

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
fn stage_a(a_off: u32, row0: u32, k0: u32, M: u32, K: u32, tid: u32) {
  for (var i = tid; i < TILE_M * TILE_K; i += WG_X * WG_Y) {
    let m = i / TILE_K;
    let k = i % TILE_K;
    var v = 0.0;
    if (row0 + m < M && k0 + k < K) { v = a[a_off + (row0 + m) * K + k0 + k]; }
    store_a(m, k, v);
  }
}

// Block-sparse fused attention: each query block visits only the key blocks its layout row lists
// (CSR: row_ptr / col_idx); absent blocks are never loaded, and a thread skips the tiles of its
// diagonal block that lie wholly past its own row. Masking inside listed blocks is exact:
// keys past the sequence length, and (CAUSAL) keys after the query. A query row with no allowed key
// is zero (the same rule as the dense kernel).
//   main    prefill: q [H, T, D], k and v [H, T, D]; one workgroup of BQ = block-size threads per
//           (query block, head), one thread per query row, 16 keys per staged tile (lib/flash.wgsl)
//   decode  one query per head at position L - 1 against caches [H, S, D] (S = cache rows, the
//           layout's length; f32, or halves through lib/kv_half): the query's block row, one key per
//           thread, online softmax per block
// Bindings: 0 params, 1 q, 2 k, 3 v, 4 row_ptr, 5 col_idx, 6 out.
//#import lib/flash
//#import lib/reduce
//#import lib/kv

override BQ: u32 = 32;          // the layout's block size (threads per workgroup)
override HEAD_DIM: u32 = 64;
override CAUSAL: bool = true;
override WG: u32 = 64;          // decode: threads per workgroup (≥ BQ, ≥ HEAD_DIM / 2)

struct Params {
  T: u32,        // queries (prefill) or cache rows (decode)
  L: u32,        // decode: keys that count (the query is at L - 1)
  scale: f32,
  group: u32,    // query heads per KV head (grouped-query attention)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> col_idx: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> out1: array<f32>;

@group(0) @binding(1) var<storage, read> q1: array<f32>;

var<workgroup> shared_u32: u32;

/** A value read by thread 0 from a buffer, made uniform (loop bounds around barriers must be). */
fn broadcast(value: u32, lid: u32) -> u32 {
  if (lid == 0u) { shared_u32 = value; }
  let u = workgroupUniformLoad(&shared_u32);
  workgroupBarrier();
  return u;
}

@compute @workgroup_size(BQ)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = params.T;
  let qb = wid.x;
  let h = wid.y;
  let qi = qb * BQ + lid;
  let in_range = qi < T;
  var f = flash_start(h * T + qi, params.scale, in_range);
  var last_key = T;
  if (CAUSAL) { last_key = qi; }
  let e_end = broadcast(row_ptr[qb + 1u], lid);
  for (var e = broadcast(row_ptr[qb], lid); e < e_end; e++) {
    let kb = broadcast(col_idx[e], lid);
    for (var k0 = kb * BQ; k0 < (kb + 1u) * BQ && k0 < T; k0 += BK) {
      stage_tile(h / params.group, T, k0, lid);
      workgroupBarrier();
      // A thread skips a tile wholly past its own row (in the diagonal block, the rows above it).
      if (in_range && k0 <= last_key) { attend_tile(&f, k0, T, last_key); }
      workgroupBarrier();
    }
  }
  if (in_range) {
    for (var d = 0u; d < HEAD_DIM / 4u; d++) { out[(h * T + qi) * (HEAD_DIM / 4u) + d] = flash_result(&f, d); }
  }
}

var<workgroup> qs: array<f32, HEAD_DIM>;
var<workgroup> ps: array<f32, 64>;

@compute @workgroup_size(WG)
fn decode(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D = HEAD_DIM;
  let S = params.T;
  let L = params.L;
  let h = wid.x;
  let qb = (L - 1u) / BQ;
  for (var d = lid; d < D; d += 64u) { qs[d] = q1[h * D + d] * params.scale; }
  workgroupBarrier();
  var m = NEG;
  var l = 0.0;
  var acc0 = 0.0;   // dims lid and lid + 64
  var acc1 = 0.0;
  let e_end = broadcast(row_ptr[qb + 1u], lid);
  for (var e = broadcast(row_ptr[qb], lid); e < e_end; e++) {
    let k0 = broadcast(col_idx[e], lid) * BQ;
    let key = k0 + lid;
    var s = NEG;
    if (lid < BQ && key < L) {
      var dot = 0.0;
      for (var d = 0u; d < D; d++) { dot = fma(qs[d], key_at(((h / params.group) * S + key) * D + d), dot); }
      s = dot;
    }
    // A block with no allowed key leaves m, l and acc as they were (m_new = m, p = 0).
    let m_new = max(m, wg_max(s, lid));
    let corr = exp(m - m_new);
    var p = 0.0;
    if (s > NEG) { p = exp(s - m_new); }
    ps[lid] = p;
    l = l * corr + wg_sum(p, lid);
    acc0 *= corr;
    acc1 *= corr;
    for (var j = 0u; j < BQ && k0 + j < L; j++) {
      let row = ((h / params.group) * S + k0 + j) * D;
      if (lid < D) { acc0 = fma(ps[j], value_at(row + lid), acc0); }
      if (lid + 64u < D) { acc1 = fma(ps[j], value_at(row + lid + 64u), acc1); }
    }
    m = m_new;
    workgroupBarrier();
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  if (lid < D) { out1[h * D + lid] = acc0 * inv; }
  if (lid + 64u < D) { out1[h * D + lid + 64u] = acc1 * inv; }
}

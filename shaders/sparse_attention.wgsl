// Block-sparse fused attention: each query block visits only the key blocks its layout row lists
// (CSR: row_ptr / col_idx); absent blocks are never loaded, and a thread skips the tiles of its
// diagonal block that lie wholly past its own row. Masking inside listed blocks is exact: keys past
// the sequence length, and (CAUSAL) keys after the query; scores go through the score hook
// (lib/score: scale, soft-cap, ALiBi). A query row with no allowed key is zero (the same rule as the
// dense kernel).
//   main    prefill: q [H, T, D], k and v [KVH, T, D]; one workgroup of BQ = block-size threads per
//           (query block, head), one thread per query row, BK keys per staged tile (lib/flash.wgsl)
//   decode  one query per head at position L - 1 against caches [KVH, S, D] (S = cache rows, the
//           layout's length; f32, or halves through lib/kv_half): the query's block row, one key per
//           thread, online softmax per block; each thread accumulates head dims lid, lid + 64, …
// Bindings: 0 params, 1 q, 2 k, 3 v, 4 row_ptr, 5 col_idx, 6 key_mask (unused: lib/flash's), 7 out.
//#import lib/flash
//#import lib/reduce
//#import lib/kv
//#import lib/broadcast
//#import lib/attention_params

override BQ: u32 = 32;          // the layout's block size (threads per workgroup in main)
override THREADS: u32 = 32;     // = BQ: one row per thread (lib/flash_rows_1)
override HEAD_DIM: u32 = 64;
const WG = 64u;                 // decode: threads per workgroup (≥ BQ: block sizes are 16, 32, 64)
const DEC_DIMS = 4u;            // decode: head dims per thread at most (256 / WG)

@group(0) @binding(4) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> col_idx: array<u32>;
@group(0) @binding(6) var<storage, read> key_mask: array<u32>;
@group(0) @binding(7) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> out1: array<f32>;

@group(0) @binding(1) var<storage, read> q1: array<f32>;

@compute @workgroup_size(BQ)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = params.T;
  let qb = wid.x;
  let h = wid.y;
  let qi = qb * BQ + lid;
  let in_range = qi < T;
  var f: Rows;
  f[0] = flash_start(h * T + qi, params.scale, in_range, qi, visible_keys(qi, 0u, T), h, 0u);
  let e_end = broadcast(row_ptr[qb + 1u], lid);
  for (var e = broadcast(row_ptr[qb], lid); e < e_end; e++) {
    let kb = broadcast(col_idx[e], lid);
    for (var k0 = kb * BQ; k0 < (kb + 1u) * BQ && k0 < T; k0 += BK) {
      stage_tile(h / params.group, T, k0, lid);
      workgroupBarrier();
      // A thread skips a tile wholly past its own row (in the diagonal block, the rows above it).
      if (flash_wants(&f, k0)) { attend_tile(&f, k0); }
      workgroupBarrier();
    }
  }
  if (in_range) {
    for (var d = 0u; d < HEAD_DIM / 4u; d++) { out[(h * T + qi) * (HEAD_DIM / 4u) + d] = flash_result(&f[0], d); }
  }
}

var<workgroup> qs: array<f32, HEAD_DIM>;
var<workgroup> ps: array<f32, WG>;

@compute @workgroup_size(WG)
fn decode(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D = HEAD_DIM;
  let S = params.T;
  let L = params.L;
  let h = wid.x;
  let qb = (L - 1u) / BQ;
  let keys = visible_keys(L - 1u, 0u, L);
  let slope = alibi_slope(h);
  for (var d = lid; d < D; d += WG) { qs[d] = q1[h * D + d] * params.scale; }
  workgroupBarrier();
  var m = NEG;
  var l = 0.0;
  var acc: array<f32, DEC_DIMS>;   // head dims lid + i * WG
  let e_end = broadcast(row_ptr[qb + 1u], lid);
  for (var e = broadcast(row_ptr[qb], lid); e < e_end; e++) {
    let k0 = broadcast(col_idx[e], lid) * BQ;
    let key = k0 + lid;
    var s = NEG;
    if (lid < BQ && key >= keys.x && key < keys.y) {
      var dot = 0.0;
      for (var d = 0u; d < D; d++) { dot = fma(qs[d], key_at(((h / params.group) * S + key) * D + d), dot); }
      s = score_mod(vec4(dot), L - 1u, key, slope).x;
    }
    // A block with no allowed key leaves m, l and acc as they were (m_new = m, p = 0).
    let m_new = max(m, wg_max(s, lid));
    let corr = exp(m - m_new);
    var p = 0.0;
    if (s > NEG) { p = exp(s - m_new); }
    ps[lid] = p;
    l = l * corr + wg_sum(p, lid);
    for (var i = 0u; i < DEC_DIMS; i++) { acc[i] *= corr; }
    for (var j = 0u; j < BQ && k0 + j < L; j++) {
      let row = ((h / params.group) * S + k0 + j) * D;
      for (var i = 0u; i * WG < D; i++) {
        if (lid + i * WG < D) { acc[i] = fma(ps[j], value_at(row + lid + i * WG), acc[i]); }
      }
    }
    m = m_new;
    workgroupBarrier();
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var i = 0u; i * WG < D; i++) {
    if (lid + i * WG < D) { out1[h * D + lid + i * WG] = acc[i] * inv; }
  }
}

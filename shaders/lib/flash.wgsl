// The online-softmax core shared by the dense and the block-sparse attention kernels
// (attention.wgsl, sparse_attention.wgsl): ROWS query rows per thread (lib/flash_rows_1, or a variant
// the tuner picks), each query pre-scaled once; K and V staged BK rows at a time in workgroup memory
// by all THREADS threads; the tile's scores kept in a private array; a running max and sum per row,
// the accumulator rescaled once per tile and normalised once at the end. Several rows per thread let
// one read of a staged key or value serve each of them (on SwiftShader, where a workgroup's threads
// cost more than their arithmetic, 4-8 rows per thread are fastest; on a GPU one row per thread keeps
// the registers free). Which keys a row sees and what its scores become come from the score hook
// (lib/score): the row's visible keys are a range [lo, hi), tested branch-free (a select); a
// key-padding mask (KEY_MASK) is read per key (the same address for every thread of the workgroup, so
// a broadcast from cache). Needs `override HEAD_DIM` and `override THREADS` (threads per workgroup),
// q, k, v bound at 1, 2, 3 as array<vec4<f32>> of [H, rows, HEAD_DIM], and `key_mask` (array<u32>,
// 1 = a real key) declared by the kernel at a binding of its own.
//#import lib/consts
//#import lib/score
//#import lib/head_dim_128
//#import lib/flash_rows_1

// Keys per staged tile (4 to 32; the op picks what the workgroup storage holds, or the tuner's
// choice): 32 halves the barriers and the rescales per key of 16.
override BK: u32 = 16u;
override KEY_MASK: bool = false;
const MAX_BK = 32u;
const NEG = -F32_MAX;

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;

var<workgroup> Ks: array<vec4<f32>, BK * HEAD_DIM / 4u>;
var<workgroup> Vs: array<vec4<f32>, BK * HEAD_DIM / 4u>;

struct Flash {
  q: array<vec4<f32>, MAX_D4>,
  acc: array<vec4<f32>, MAX_D4>,
  m: f32,
  l: f32,
  q_pos: u32,    // the query's position (the score hook's q_pos)
  lo: u32,       // it sees keys [lo, hi)
  hi: u32,
  slope: f32,    // its head's ALiBi slope
  mask_row: u32, // KEY_MASK: its batch row's first flag in key_mask
}

/**
 * Starts query row `row` at position q_pos, seeing keys [keys.x, keys.y), for query head `head` (its
 * ALiBi head) whose key-padding flags start at key_mask[mask_row].
 */
fn flash_start(row: u32, scale: f32, in_range: bool, q_pos: u32, keys: vec2<u32>, head: u32, mask_row: u32) -> Flash {
  var f: Flash;
  f.mask_row = mask_row;
  f.m = NEG;
  f.l = 0.0;
  f.q_pos = q_pos;
  f.lo = keys.x;
  f.hi = select(keys.x, keys.y, in_range);   // a row past the end sees nothing
  f.slope = alibi_slope(head);
  if (in_range) {
    for (var d = 0u; d < HEAD_DIM / 4u; d++) { f.q[d] = q[row * (HEAD_DIM / 4u) + d] * scale; }
  }
  return f;
}

/** A thread's query rows. */
alias Rows = array<Flash, ROWS>;

/** Whether any of the thread's rows sees a key of the tile at k0 (else it skips the tile's math). */
fn flash_wants(f: ptr<function, Rows>, k0: u32) -> bool {
  var any_row = false;
  for (var i = 0u; i < ROWS; i++) { any_row = any_row || (k0 < (*f)[i].hi && k0 + BK > (*f)[i].lo); }
  return any_row;
}

/** All threads: stage keys k0..k0+BK of KV head h (rows past S are zero) into workgroup memory. */
fn stage_tile(h: u32, S: u32, k0: u32, lid: u32) {
  let D4 = HEAD_DIM / 4u;
  for (var i = lid; i < BK * D4; i += THREADS) {
    let r = k0 + i / D4;
    var kv = vec4(0.0);
    var vv = vec4(0.0);
    if (r < S) {
      kv = k[(h * S + r) * D4 + i % D4];
      vv = v[(h * S + r) * D4 + i % D4];
    }
    Ks[i] = kv;
    Vs[i] = vv;
  }
}

/**
 * One thread: folds the staged tile's keys k0 + j, j < BK, into each of its rows, four keys at a time:
 * a head-dim slice of q times the 4 keys' slices as a matrix gives their 4 partial scores, and the 4
 * values' slices times the 4 probabilities give the accumulator's update. Each load of a staged key or
 * value serves every row, and each load of q or of the accumulator serves 4 keys. A key a row does not
 * see gets the score -F32_MAX by a select, no branch, and adds nothing.
 */
fn attend_tile(f: ptr<function, Rows>, k0: u32) {
  let D4 = HEAD_DIM / 4u;
  var s: array<array<vec4<f32>, MAX_BK / 4u>, ROWS>;
  var m_new: array<f32, ROWS>;
  for (var i = 0u; i < ROWS; i++) { m_new[i] = (*f)[i].m; }
  for (var j = 0u; j < BK; j += 4u) {
    var dp: array<vec4<f32>, ROWS>;
    // Zeroed explicitly: SwiftShader kept the previous group's sums in an array declared in the loop body.
    for (var i = 0u; i < ROWS; i++) { dp[i] = vec4(0.0); }
    for (var d = 0u; d < D4; d++) {
      let r = j * D4 + d;
      let keys = mat4x4(Ks[r], Ks[r + D4], Ks[r + 2u * D4], Ks[r + 3u * D4]);
      for (var i = 0u; i < ROWS; i++) { dp[i] += (*f)[i].q[d] * keys; }
    }
    let key = vec4(k0 + j) + vec4(0u, 1u, 2u, 3u);
    var real = vec4(true);
    if (KEY_MASK) {
      let m = (*f)[0].mask_row + k0 + j;
      real = vec4(key_mask[m], key_mask[m + 1u], key_mask[m + 2u], key_mask[m + 3u]) != vec4(0u);
    }
    for (var i = 0u; i < ROWS; i++) {
      let seen = real & (key >= vec4((*f)[i].lo)) & (key < vec4((*f)[i].hi));
      let x = select(vec4(NEG), score_mod(dp[i], (*f)[i].q_pos, k0 + j, (*f)[i].slope), seen);
      s[i][j / 4u] = x;
      m_new[i] = max(m_new[i], max(max(x.x, x.y), max(x.z, x.w)));
    }
  }
  // Probabilities, and each row's accumulator rescaled to its new max (a row that saw nothing keeps
  // m = -F32_MAX, and its hidden keys' probabilities are 0 by the select).
  for (var i = 0u; i < ROWS; i++) {
    let corr = exp((*f)[i].m - m_new[i]);
    var l = (*f)[i].l * corr;
    for (var j = 0u; j < BK / 4u; j++) {
      let p = select(vec4(0.0), exp(s[i][j] - m_new[i]), s[i][j] > vec4(NEG));
      s[i][j] = p;
      l += p.x + p.y + p.z + p.w;
    }
    (*f)[i].l = l;
    (*f)[i].m = m_new[i];
    for (var d = 0u; d < D4; d++) { (*f)[i].acc[d] *= corr; }
  }
  for (var j = 0u; j < BK; j += 4u) {
    for (var d = 0u; d < D4; d++) {
      let r = j * D4 + d;
      let values = mat4x4(Vs[r], Vs[r + D4], Vs[r + 2u * D4], Vs[r + 3u * D4]);
      for (var i = 0u; i < ROWS; i++) { (*f)[i].acc[d] += values * s[i][j / 4u]; }
    }
  }
}

/** The normalised row; a row that saw no key is zero. */
fn flash_result(f: ptr<function, Flash>, d: u32) -> vec4<f32> {
  return select(vec4(0.0), (*f).acc[d] / (*f).l, (*f).l > 0.0);
}

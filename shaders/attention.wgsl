// Fused softmax attention, flash-attention style: out = softmax(score(q kᵀ · scale) + mask) v
// q [H, T, D], k and v [KVH, S, D], out [H, T, D]; D = HEAD_DIM, a multiple of 4 up to 256 (above 128
// through lib/head_dim_256). Grouped-query attention: query head h reads KV head h / group.
// BQ query rows per workgroup, ROWS per thread (THREADS = BQ / ROWS threads; lib/flash_rows_*), over
// tiles of BK keys (lib/flash.wgsl); the T × S score matrix never exists. Masks and score modifiers
// come from the score hook (lib/score): query t sits at position t + q_offset (q_offset = S - T when
// the queries are the last T positions) and sees a range of keys, cut by the causal mask and a
// sliding window; the workgroup loads only the tiles between its first row's first key and its last
// row's last key, and a thread skips the tiles wholly outside its own range.
//   varlen   (entry point) a packed variable-length batch (FlashAttention's varlen): T = S = the
//            sequences concatenated, cu_seqlens [n_seqs + 1] their starts; a query sees only its own
//            sequence's keys, so a batch of 3, 9 and 17 tokens costs about 3² + 9² + 17² score pairs,
//            not 3 × 17². Its workgroup's key range comes from a buffer, made uniform by lib/broadcast
//            (a slot of workgroup memory that `main` does not pay for).
//   KEY_MASK key padding (lib/flash): key_mask [B, S], 1 for a real key, 0 for padding; query head h
//            belongs to batch row h / heads_per_batch.
// Bindings: 0 params, 1 q, 2 k, 3 v, 4 cu_seqlens, 5 key_mask, 6 out.
//#import lib/flash
//#import lib/broadcast
//#import lib/attention_params

override BQ: u32 = 64;        // query rows per workgroup
override THREADS: u32 = 64;   // BQ / ROWS
override HEAD_DIM: u32 = 64;

@group(0) @binding(4) var<storage, read> cu_seqlens: array<u32>;
@group(0) @binding(5) var<storage, read> key_mask: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4<f32>>;

/** The packed sequence holding row r: its keys [start, end), by a binary search of cu_seqlens. */
fn seq_keys(r: u32) -> vec2<u32> {
  var a = 0u;               // cu_seqlens[a] ≤ r < cu_seqlens[b]
  var b = params.n_seqs;
  while (b - a > 1u) {
    let m = (a + b) / 2u;
    if (cu_seqlens[m] <= r) { a = m; } else { b = m; }
  }
  return vec2(min(cu_seqlens[a], params.S), min(cu_seqlens[b], params.S));
}

/**
 * Rows q0..q0+BQ of head wid.y against the keys [k_begin, k_end) (uniform: the loop has barriers);
 * `packed` rows see only their own sequence's keys.
 */
fn attend_rows(wid: vec2<u32>, lid: u32, k_begin: u32, k_end: u32, packed: bool) {
  let T = params.T;
  let S = params.S;
  let h = wid.y;
  let mask_row = (h / params.heads_per_batch) * S;
  var f: Rows;   // the thread's rows: q0 + lid, q0 + lid + THREADS, …
  for (var i = 0u; i < ROWS; i++) {
    let qi = wid.x * BQ + lid + i * THREADS;
    let in_range = qi < T;
    var seq = vec2(0u, S);
    if (packed && in_range) { seq = seq_keys(qi); }
    let keys = visible_keys(qi + params.q_offset, seq.x, seq.y);
    f[i] = flash_start(h * T + qi, params.scale, in_range, qi + params.q_offset, keys, h % params.heads_per_batch, mask_row);
  }
  for (var k0 = k_begin - k_begin % BK; k0 < k_end; k0 += BK) {
    stage_tile(h / params.group, S, k0, lid);
    workgroupBarrier();
    if (flash_wants(&f, k0)) { attend_tile(&f, k0); }
    workgroupBarrier();
  }
  for (var i = 0u; i < ROWS; i++) {
    let qi = wid.x * BQ + lid + i * THREADS;
    if (qi < T) {
      for (var d = 0u; d < HEAD_DIM / 4u; d++) { out[(h * T + qi) * (HEAD_DIM / 4u) + d] = flash_result(&f[i], d); }
    }
  }
}

// The workgroup's keys run from its first row's first to its last row's last: both only grow with the row.

/** One sequence, or a batch folded into the heads (with key padding): keys from uniforms alone. */
@compute @workgroup_size(THREADS)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Under the causal mask later query blocks see more keys: they take the first workgroup ids, which
  // GPUs start first, so the longest workgroups do not start last.
  let blk = vec2(nwg.x - 1u - wid.x, wid.y);
  let q0 = blk.x * BQ;
  let q1 = min(q0 + BQ, params.T) - 1u;
  let k_begin = visible_keys(q0 + params.q_offset, 0u, params.S).x;
  let k_end = visible_keys(q1 + params.q_offset, 0u, params.S).y;
  attend_rows(blk, lid, k_begin, k_end, false);
}

/** A packed variable-length batch (q_offset 0). */
@compute @workgroup_size(THREADS)
fn varlen(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let q0 = wid.x * BQ;
  let q1 = min(q0 + BQ, params.T) - 1u;
  let s0 = seq_keys(q0);
  let s1 = seq_keys(q1);
  let k_begin = broadcast(visible_keys(q0, s0.x, s0.y).x, lid);
  let k_end = broadcast(visible_keys(q1, s1.x, s1.y).y, lid);
  attend_rows(wid.xy, lid, k_begin, k_end, true);
}

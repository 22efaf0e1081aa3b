// Top-k of one row on the GPU, so a similarity query reads back k results, not the whole vocabulary.
// One workgroup; k passes, each taking the largest value below the previous pick (ties: lowest index
// first), skipping the indices listed in `exclude` (the query words).
// out (u32 [2k]): indices in out[0..k), the scores' f32 bits in out[k..2k); rows with fewer than k
// candidates end with index 0xffffffff.
// Bindings: 0 params, 1 scores, 2 exclude (u32), 3 out.

override WG: u32 = 256;

struct Params {
  N: u32,
  k: u32,
  n_exclude: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> exclude: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

var<workgroup> bv: array<f32, 256>;
var<workgroup> bi: array<u32, 256>;

const NONE = 0xffffffffu;

fn excluded(i: u32) -> bool {
  for (var e = 0u; e < params.n_exclude; e++) { if (exclude[e] == i) { return true; } }
  return false;
}

/** a ranks before b: larger score, or equal score and smaller index. */
fn before(av: f32, ai: u32, b_v: f32, b_i: u32) -> bool {
  return ai != NONE && (b_i == NONE || av > b_v || (av == b_v && ai < b_i));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var prev_v = 3.402823e38;
  var prev_i = NONE;
  for (var r = 0u; r < params.k; r++) {
    var best_v = -3.402823e38;
    var best_i = NONE;
    for (var i = lid; i < params.N; i += WG) {
      let v = scores[i];
      // Candidates rank strictly after the previous pick.
      let after_prev = prev_i == NONE || v < prev_v || (v == prev_v && i > prev_i);
      if (after_prev && !excluded(i) && before(v, i, best_v, best_i)) { best_v = v; best_i = i; }
    }
    bv[lid] = best_v;
    bi[lid] = best_i;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (lid < s && before(bv[lid + s], bi[lid + s], bv[lid], bi[lid])) { bv[lid] = bv[lid + s]; bi[lid] = bi[lid + s]; }
      workgroupBarrier();
    }
    prev_v = bv[0];
    prev_i = bi[0];
    if (lid == 0u) {
      out[r] = prev_i;
      out[params.k + r] = bitcast<u32>(prev_v);
    }
    workgroupBarrier();
  }
}

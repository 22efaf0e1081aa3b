// Top-k on the GPU, so a similarity query reads back k results, not the whole vocabulary.
// k passes, each taking the best candidate ranked after the previous pick (larger score first, then
// lower index), skipping the indices listed in `exclude` (the query words).
//   main   workgroup g scans scores [g * chunk, (g + 1) * chunk): with one workgroup this is the whole
//          answer; with several it writes each chunk's top-k for `merge`
//   merge  one workgroup over the chunks' candidates
// out (u32): per workgroup, k indices then the k scores' f32 bits; missing entries are 0xffffffff.
// Bindings: main: 0 params, 1 scores, 2 exclude (u32), 3 out; merge: 0 params, 1 candidates, 3 out.
//#import lib/consts

override WG: u32 = 256; // a power of two (best_of halves it); sizes bv and bi

struct Params {
  N: u32,          // main: scores; merge: chunks
  k: u32,
  n_exclude: u32,
  chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(1) var<storage, read> candidates: array<u32>;
@group(0) @binding(2) var<storage, read> exclude: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;

const NONE = 0xffffffffu;

fn excluded(i: u32) -> bool {
  for (var e = 0u; e < params.n_exclude; e++) { if (exclude[e] == i) { return true; } }
  return false;
}

/** a ranks before b: larger score, or equal score and smaller index. */
fn before(av: f32, ai: u32, b_v: f32, b_i: u32) -> bool {
  return ai != NONE && (b_i == NONE || av > b_v || (av == b_v && ai < b_i));
}

/** a ranks after the previous pick (or there was none). */
fn after(v: f32, i: u32, prev_v: f32, prev_i: u32) -> bool {
  return prev_i == NONE || v < prev_v || (v == prev_v && i > prev_i);
}

/** Workgroup-wide best of each thread's (v, i); every thread gets the result. */
fn best_of(v: f32, i: u32, lid: u32) -> vec2<u32> {
  bv[lid] = v;
  bi[lid] = i;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s && before(bv[lid + s], bi[lid + s], bv[lid], bi[lid])) { bv[lid] = bv[lid + s]; bi[lid] = bi[lid + s]; }
    workgroupBarrier();
  }
  let r = vec2(bitcast<u32>(bv[0]), bi[0]);
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lo = wid.x * params.chunk;
  let hi = min(params.N, lo + params.chunk);
  var prev_v = F32_MAX;
  var prev_i = NONE;
  for (var r = 0u; r < params.k; r++) {
    var best_v = -F32_MAX;
    var best_i = NONE;
    for (var i = lo + lid; i < hi; i += WG) {
      let v = scores[i];
      if (after(v, i, prev_v, prev_i) && !excluded(i) && before(v, i, best_v, best_i)) { best_v = v; best_i = i; }
    }
    let b = best_of(best_v, best_i, lid);
    prev_v = bitcast<f32>(b.x);
    prev_i = b.y;
    if (lid == 0u) {
      out[wid.x * 2u * params.k + r] = prev_i;
      out[wid.x * 2u * params.k + params.k + r] = b.x;
    }
  }
}

@compute @workgroup_size(WG)
fn merge(@builtin(local_invocation_index) lid: u32) {
  let k = params.k;
  let n = params.N * k;
  var prev_v = F32_MAX;
  var prev_i = NONE;
  for (var r = 0u; r < k; r++) {
    var best_v = -F32_MAX;
    var best_i = NONE;
    for (var j = lid; j < n; j += WG) {
      let base = (j / k) * 2u * k;
      let i = candidates[base + j % k];
      let v = bitcast<f32>(candidates[base + k + j % k]);
      if (i != NONE && after(v, i, prev_v, prev_i) && before(v, i, best_v, best_i)) { best_v = v; best_i = i; }
    }
    let b = best_of(best_v, best_i, lid);
    prev_v = bitcast<f32>(b.x);
    prev_i = b.y;
    if (lid == 0u) {
      out[r] = prev_i;
      out[k + r] = b.x;
    }
  }
}

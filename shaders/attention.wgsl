// Fused softmax attention, flash-attention style: out = softmax(q kᵀ / sqrt(D) + mask) v
// q [H, T, D], k and v [H, S, D], out [H, T, D]; D = HEAD_DIM, a multiple of 4 up to 128.
// One thread per query row (BQ rows per workgroup). K and V are staged BK rows at a time in
// workgroup memory; each thread keeps a running max and sum (online softmax) and rescales its
// accumulator once per tile, normalising once at the end. The T × S score matrix never exists.
// Causal: query t sees keys ≤ t + q_offset (q_offset = S - T when queries are the last T positions).
// Tiles wholly above the diagonal are never loaded; only tiles that cross it are masked per element.
// Bindings: 0 params, 1 q, 2 k, 3 v, 4 out.

override BQ: u32 = 64;
override HEAD_DIM: u32 = 64;
override CAUSAL: bool = true;

const BK = 16u;       // keys per staged tile
const MAX_D4 = 32u;   // HEAD_DIM / 4 at most

struct Params {
  T: u32,
  S: u32,
  scale: f32,
  q_offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;

var<workgroup> Ks: array<vec4<f32>, BK * HEAD_DIM / 4u>;
var<workgroup> Vs: array<vec4<f32>, BK * HEAD_DIM / 4u>;

const NEG = -3.402823e38;

@compute @workgroup_size(BQ)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D4 = HEAD_DIM / 4u;
  let T = params.T;
  let S = params.S;
  let h = wid.y;
  let q0 = wid.x * BQ;
  let qi = q0 + lid;
  let in_range = qi < T;
  var qr: array<vec4<f32>, MAX_D4>;
  var acc: array<vec4<f32>, MAX_D4>;
  if (in_range) {
    for (var d = 0u; d < D4; d++) { qr[d] = q[(h * T + qi) * D4 + d] * params.scale; }
  }
  var m = NEG;
  var l = 0.0;
  var k_end = S;
  if (CAUSAL) { k_end = min(S, q0 + BQ + params.q_offset); }
  let last_key = qi + params.q_offset;
  for (var k0 = 0u; k0 < k_end; k0 += BK) {
    for (var i = lid; i < BK * D4; i += BQ) {
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
    workgroupBarrier();
    if (in_range) {
      let crosses = CAUSAL && k0 + BK - 1u > q0 + params.q_offset;
      var s: array<f32, BK>;
      var tile_max = NEG;
      for (var j = 0u; j < BK; j++) {
        let key = k0 + j;
        var visible = key < S;
        if (crosses) { visible = visible && key <= last_key; }
        var score = NEG;
        if (visible) {
          var dp = vec4(0.0);
          for (var d = 0u; d < D4; d++) { dp = fma(qr[d], Ks[j * D4 + d], dp); }
          score = dp.x + dp.y + dp.z + dp.w;
        }
        s[j] = score;
        tile_max = max(tile_max, score);
      }
      if (tile_max > NEG) {
        let m_new = max(m, tile_max);
        let corr = exp(m - m_new);
        l *= corr;
        for (var d = 0u; d < D4; d++) { acc[d] *= corr; }
        for (var j = 0u; j < BK; j++) {
          if (s[j] > NEG) {
            let p = exp(s[j] - m_new);
            l += p;
            for (var d = 0u; d < D4; d++) { acc[d] = fma(vec4(p), Vs[j * D4 + d], acc[d]); }
          }
        }
        m = m_new;
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    // A row with no visible key (possible only with q_offset tricks) is defined as zero.
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var d = 0u; d < D4; d++) { out[(h * T + qi) * D4 + d] = acc[d] * inv; }
  }
}

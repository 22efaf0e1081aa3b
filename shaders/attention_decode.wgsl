// Decode attention: one new query per head against a KV cache of the current length L (a uniform,
// so one plan serves every step), split across workgroups (flash-decoding) and then combined.
//   split:   workgroup (s, h) scores keys [s * CHUNK, min(L, (s + 1) * CHUNK)) and writes its partial
//            result: partial[h, s, 0..D) = Σ exp(score - m) v, partial[h, s, D] = m, [D + 1] = Σ exp
//   combine: out[h, d] = Σ_s e^(m_s - M) acc_s[d] / Σ_s e^(m_s - M) l_s,  M = max_s m_s
// q [H, 1, D]; caches [KVH, S, D] (f32, or halves through lib/kv_half); out [H, 1, D]; D up to
// 256. The query sits at position L - 1; which keys it sees and its scores come from the score hook
// (lib/score: window, soft-cap, ALiBi), and with KEY_MASK key_mask [B, S] hides padding (query
// head h in batch row h / heads_per_batch). Splits that see no key write m = -F32_MAX, l = 0.
// Bindings (split): 0 params, 1 q, 2 k cache, 3 v cache, 4 key_mask, 5 partial.
// Bindings (combine): 0 params, 1 partial, 2 out.
//#import lib/consts
//#import lib/reduce
//#import lib/kv
//#import lib/score
//#import lib/attention_params

override WG: u32 = 64;
override HEAD_DIM: u32 = 64;
override CHUNK: u32 = 256;
override KEY_MASK: bool = false;

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(4) var<storage, read> key_mask: array<u32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

@group(0) @binding(1) var<storage, read> partial_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> qs: array<f32, HEAD_DIM>;
var<workgroup> ps: array<f32, CHUNK>;

const NEG = -F32_MAX;

@compute @workgroup_size(WG)
fn split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D = HEAD_DIM;
  let sp = wid.x;
  let h = wid.y;
  let keys = visible_keys(params.L - 1u, 0u, params.L);
  let start = max(sp * CHUNK, keys.x);
  let end = min(keys.y, sp * CHUNK + CHUNK);
  let slope = alibi_slope(h % params.heads_per_batch);
  let mask_row = (h / params.heads_per_batch) * params.S;
  for (var d = lid; d < D; d += WG) { qs[d] = q[h * D + d] * params.scale; }
  workgroupBarrier();
  let row0 = (h / params.group) * params.S;   // the query head's KV head
  var local_max = NEG;
  for (var j = start + lid; j < end; j += WG) {
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s = fma(qs[d], key_at((row0 + j) * D + d), s); }
    s = select(NEG, score_mod(vec4(s), params.L - 1u, j, slope).x, !KEY_MASK || key_mask[mask_row + j] != 0u);
    ps[j - start] = s;
    local_max = max(local_max, s);
  }
  let m = wg_max(local_max, lid);
  var local_sum = 0.0;
  for (var j = start + lid; j < end; j += WG) {
    let p = select(0.0, exp(ps[j - start] - m), ps[j - start] > NEG);   // 0 for a hidden key
    ps[j - start] = p;
    local_sum += p;
  }
  let l = wg_sum(local_sum, lid);
  let base = (h * params.n_split + sp) * (D + 2u);
  for (var d = lid; d < D; d += WG) {
    var acc = 0.0;
    for (var j = start; j < end; j++) { acc = fma(ps[j - start], value_at((row0 + j) * D + d), acc); }
    partial[base + d] = acc;
  }
  if (lid == 0u) {
    partial[base + D] = m;
    partial[base + D + 1u] = l;
  }
}

@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D = HEAD_DIM;
  let h = wid.x;
  let n = params.n_split;
  var M = NEG;
  for (var s = 0u; s < n; s++) { M = max(M, partial_in[(h * n + s) * (D + 2u) + D]); }
  var denom = 0.0;
  for (var s = 0u; s < n; s++) {
    let b = (h * n + s) * (D + 2u);
    denom += exp(partial_in[b + D] - M) * partial_in[b + D + 1u];
  }
  for (var d = lid; d < D; d += WG) {
    var num = 0.0;
    for (var s = 0u; s < n; s++) {
      let b = (h * n + s) * (D + 2u);
      num += exp(partial_in[b + D] - M) * partial_in[b + d];
    }
    out[h * D + d] = select(0.0, num / denom, denom > 0.0);
  }
}

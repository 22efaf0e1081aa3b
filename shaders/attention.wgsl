// Fused softmax attention, flash-attention style: out = softmax(q kᵀ / sqrt(D) + mask) v
// q [H, T, D], k and v [KVH, S, D], out [H, T, D]; D = HEAD_DIM, a multiple of 4 up to 128. Grouped-query
// attention: query head h reads KV head h / group (group = H / KVH; 1 for multi-head attention).
// One thread per query row (BQ rows per workgroup) over tiles of 16 keys (lib/flash.wgsl); the
// T × S score matrix never exists. Causal: query t sees keys ≤ t + q_offset (q_offset = S - T when
// the queries are the last T positions); tiles wholly above the diagonal are never loaded, and only
// tiles that cross it test keys one by one, and in those a thread skips tiles wholly past its own row.
// Bindings: 0 params, 1 q, 2 k, 3 v, 4 out.
//#import lib/flash

override BQ: u32 = 64;
override HEAD_DIM: u32 = 64;
override CAUSAL: bool = true;

struct Params {
  T: u32,
  S: u32,
  scale: f32,
  q_offset: u32,
  group: u32,      // query heads per KV head
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(BQ)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = params.T;
  let S = params.S;
  let h = wid.y;
  let q0 = wid.x * BQ;
  let qi = q0 + lid;
  let in_range = qi < T;
  var f = flash_start(h * T + qi, params.scale, in_range);
  var k_end = S;
  var last_key = S;
  if (CAUSAL) {
    k_end = min(S, q0 + BQ + params.q_offset);
    last_key = qi + params.q_offset;
  }
  for (var k0 = 0u; k0 < k_end; k0 += BK) {
    stage_tile(h / params.group, S, k0, lid);
    workgroupBarrier();
    // Tiles wholly below the diagonal need no per-key test: every key is ≤ the block's first query.
    let crosses = CAUSAL && k0 + BK - 1u > q0 + params.q_offset;
    // A thread skips a tile wholly past its own last key (the rows above the diagonal of a crossing block).
    if (in_range && k0 <= last_key) { attend_tile(&f, k0, S, select(S, last_key, crosses)); }
    workgroupBarrier();
  }
  if (in_range) {
    for (var d = 0u; d < HEAD_DIM / 4u; d++) { out[(h * T + qi) * (HEAD_DIM / 4u) + d] = flash_result(&f, d); }
  }
}

// Token + position embedding from an int8 token table (the layouts of quantize.ts, rows are tokens and
// K = C): out[t, c] = dequant(wq)[ids[t] - id_lo, c] + wpe[pos + t, c]. Same uniforms and row-block
// semantics as embedding.wgsl: the block holds rows [id_lo, id_lo + V), ids outside it contribute 0,
// only one block adds the position. Lets GPT-2 keep one int8 copy of wte for both the embedding and
// lm_head (dequant_matmul reads the same packed words).
// Bindings: 0 params, 1 ids (u32), 2 qw, 3 scales, 4 wpe [P, C], 5 out [T, C]. Needs lib/unpack_*.wgsl.

override WG: u32 = 256;
override SCHEME: u32 = 0;   // 0: q8_0 (a scale per 32 along C), 1: per-channel (one per token row)

struct Params {
  T: u32,
  C: u32,
  V: u32,
  P: u32,
  pos: u32,
  id_lo: u32,
  add_pos: u32,
  row_words: u32,
  n_blocks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> qw: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> wpe: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let C = params.C;
  if (i >= params.T * C) { return; }
  let t = i / C;
  let c = i % C;
  let id = ids[t];
  var v = 0.0;
  if (id >= params.id_lo && id - params.id_lo < params.V) {
    let row = id - params.id_lo;
    let q = unpack_bytes(qw[row * params.row_words + c / 4u])[c % 4u];
    let s = select(scales[row], scales[row * params.n_blocks + c / 32u], SCHEME == 0u);
    v = f32(q) * s;
  }
  if (params.add_pos == 1u) { v += wpe[min(params.pos + t, params.P - 1u) * C + c]; }
  out[i] = v;
}

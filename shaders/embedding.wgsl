// Token + position embedding with an f32 token table: out[t, c] = wte[ids[t], c] + wpe[pos + t, c].
// The kernel is lib/embedding.wgsl; this file gives its bindings and how a token row is read.
// Bindings: 0 params, 1 ids (u32), 2 wte [V, C], 3 wpe [P, C], 4 out [T, C].
//#import lib/embedding

@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn token_value(row: u32, c: u32) -> f32 {
  return wte[row * params.C + c];
}

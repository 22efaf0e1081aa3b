// How a decode kernel reads its K/V caches: f32 here; lib/kv_half.wgsl is the twin for caches stored
// as IEEE halves two per u32 (the kernels alias one for the other). Bindings 2 (k) and 3 (v).
@group(0) @binding(2) var<storage, read> k1: array<f32>;
@group(0) @binding(3) var<storage, read> v1: array<f32>;

fn key_at(i: u32) -> f32 {
  return k1[i];
}

fn value_at(i: u32) -> f32 {
  return v1[i];
}

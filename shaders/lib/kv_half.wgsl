// K/V caches stored as IEEE halves, two per u32 word (element i in half i % 2 of word i / 2), read
// with unpack2x16float: half the bytes a decode step reads, on any adapter (no shader-f16). The twin
// of lib/kv.wgsl. Bindings 2 (k) and 3 (v).
@group(0) @binding(2) var<storage, read> k_h: array<u32>;
@group(0) @binding(3) var<storage, read> v_h: array<u32>;

fn key_at(i: u32) -> f32 {
  return unpack2x16float(k_h[i >> 1u])[i & 1u];
}

fn value_at(i: u32) -> f32 {
  return unpack2x16float(v_h[i >> 1u])[i & 1u];
}

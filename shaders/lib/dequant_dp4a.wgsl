// The dot4I8Packed path of dequant_matmul.wgsl (appended to it only where the adapter has the
// packed_4x8_integer_dot_product language feature): q8_0 weights, M == 1, K ≤ 4096. The activations
// are quantized per block of 32 (absmax / 127, round half away from zero) into workgroup memory once
// per workgroup; each weight block then costs eight 4-way int8 dot products and one scale multiply.
// Less exact than `gemv`: the activations lose precision too (the tests report by how much).
//#import lib/index

var<workgroup> xq: array<u32, 1024>;
var<workgroup> xs: array<f32, 128>;

@compute @workgroup_size(256, 1, 1)
fn gemv_dp4a(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: LaneIds) {
  let K = params.K;
  let nb = params.n_blocks;
  for (var b = ids.tid; b < nb; b += 256u) {
    var amax = 0.0;
    for (var k = b * 32u; k < min(K, b * 32u + 32u); k++) { amax = max(amax, abs(a[k])); }
    let s = amax / 127.0;
    xs[b] = s;
    for (var w = 0u; w < 8u; w++) {
      var word = 0u;
      for (var j = 0u; j < 4u; j++) {
        let k = b * 32u + w * 4u + j;
        var q = 0.0;
        if (k < K && s > 0.0) {
          let v = a[k] / s;
          q = clamp(sign(v) * floor(abs(v) + 0.5), -127.0, 127.0);
        }
        word |= (u32(i32(q)) & 0xffu) << (8u * j);
      }
      xq[b * 8u + w] = word;
    }
  }
  workgroupBarrier();
  // Groups of TPR threads as in `gemv`, NR outputs each; a lane takes every TPR-th block of 32.
  let g = lane_of(ids);
  let n0 = (flat_group(wid, nwg) * (256u / TPR) + g.x) * NR;
  var acc = vec4(0.0);
  for (var b = g.y; b < nb; b += TPR) {
    for (var r = 0u; r < NR; r++) {
      let n = min(n0 + r, params.N - 1u);
      var d = 0;
      // Block (n, b) of q8_0: an f16 scale, then 32 int8 at an even byte offset (lib/ggml_blocks).
      let at = (n * nb + b) * 34u;
      for (var w = 0u; w < 8u; w++) { d += dot4I8Packed(xq[b * 8u + w], word_at(at + 2u + 4u * w)); }
      acc[r] = fma(f32(d), xs[b] * half_at(at), acc[r]);
    }
  }
  let s = lane_sum(acc, ids);
  if (g.y == 0u) { store_rows(n0, s); }
}
